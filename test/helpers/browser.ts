import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, which scripts/setup.sh installs when missing (as root); tests skip with a reason without it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const screenshotDir = path.resolve(__dirname, '../../.local/screenshots');

export function chromiumAvailable(): boolean {
  return fs.existsSync(chromiumPath);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Runs axe-core in the page and fails on any serious or critical violation, naming rule and elements. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document)).violations;
  })) as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    const lines = bad.map(
      (v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
    throw new Error(`axe-core on ${what}:\n${lines.join('\n')}`);
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Usable at the page's width (a phone's 390 px): the document does not scroll sideways, and every visible control
 * lies within the viewport or inside a box that scrolls by itself (a wide table, a JSON block), so it can be reached.
 */
export async function assertFitsWidth(page: Page, what: string): Promise<void> {
  // A string, not a function: tsx's esbuild would wrap named inner functions in a `__name` helper the page lacks.
  const found = (await page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    const scrollsItself = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const overflowX = getComputedStyle(p).overflowX;
        if ((overflowX === 'auto' || overflowX === 'scroll') && p.getBoundingClientRect().right <= width + 1) return true;
      }
      return false;
    };
    const outside = Array.from(document.querySelectorAll('button, a[href], input, select, textarea, summary'))
      // The skip link waits off-screen until it has the focus.
      .filter((el) => !el.classList.contains('skip'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && (r.left < -1 || r.right > width + 1) && !scrollsItself(el);
      })
      .map((el) => el.tagName.toLowerCase() + ' "' + (el.textContent || '').trim().slice(0, 40) + '" ' +
        el.getBoundingClientRect().left.toFixed(0) + '..' + el.getBoundingClientRect().right.toFixed(0) + ' px');
    // What makes the page wider: the innermost elements reaching past its right edge.
    const wide = Array.from(document.body.querySelectorAll('*'))
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !scrollsItself(el) && !el.classList.contains('skip'))
      .filter((el) => !Array.from(el.children).some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') +
        ' ' + el.getBoundingClientRect().right.toFixed(0) + ' px: "' + (el.textContent || '').trim().slice(0, 50) + '"');
    return { scrollWidth: document.documentElement.scrollWidth, width, outside, wide };
  })()`)) as { scrollWidth: number; width: number; outside: string[]; wide: string[] };
  const problems = [
    ...(found.scrollWidth > found.width
      ? [`the page scrolls sideways: ${found.scrollWidth} px wide in ${found.width} px`, ...found.wide]
      : []),
    ...found.outside.map((o) => `out of reach: ${o}`),
  ];
  if (problems.length > 0) throw new Error(`${what} at ${found.width} px:\n${problems.join('\n')}`);
}

/**
 * Fails when the project's own modules import each other in a cycle, type-only imports included.
 *
 * ESLint's `import-x/no-cycle` skips `import type` (a cycle of types is harmless to load order), but a cycle of
 * types still ties two files into one concept and is what issue 11 asked to forbid. This walks the same files as
 * `tsc` (tsconfig.json), reads every import, export-from and `import()` with TypeScript's own pre-parser, resolves
 * it as the compiler does, and reports each strongly connected group of files. `npm run lint` runs it.
 */
import path from 'node:path';
import ts from 'typescript';

/** The groups of files (relative to root, sorted) that reach each other through imports. */
export function findImportCycles(root: string): string[][] {
  const configPath = path.join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const files = new Set(parsed.fileNames.map((f) => path.resolve(f)));

  const edges = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    const targets = new Set<string>();
    for (const { fileName } of importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, parsed.options, ts.sys).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const target = path.resolve(resolved.resolvedFileName);
      if (files.has(target) && target !== file) targets.add(target);
    }
    edges.set(file, [...targets]);
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1)
    .map((group) => group.map((f) => path.relative(root, f)).sort())
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** Tarjan's algorithm, iterative so that a long import chain cannot overflow the stack. */
function stronglyConnected(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let next = 0;
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: start, child: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const children = edges.get(frame.node) ?? [];
      if (frame.child < children.length) {
        const child = children[frame.child++];
        if (!index.has(child)) {
          index.set(child, next);
          low.set(child, next++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        groups.push(group);
      }
    }
  }
  return groups;
}

if (require.main === module) {
  const cycles = findImportCycles(process.argv[2] ?? path.resolve(__dirname, '..'));
  for (const group of cycles) console.error(`import cycle (type imports included): ${group.join(' ↔ ')}`);
  process.exitCode = cycles.length ? 1 : 0;
}

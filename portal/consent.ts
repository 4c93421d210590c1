/// <reference lib="dom" />
import { api } from './api';

/**
 * Opens Microsoft's admin-consent page in a new window. The window is opened synchronously inside the click (popup
 * blockers allow only that) and pointed at the consent URL once the API has answered it; it is cut from this page
 * (no opener) before it leaves our origin.
 */
export async function openConsentWindow(requestPath: string, body?: unknown): Promise<void> {
  const popup = window.open('about:blank', 'entra-backup-consent', 'popup,width=560,height=720');
  try {
    const { consentUrl } = await api<{ consentUrl: string; expiresAt: string }>('POST', requestPath, body);
    if (popup) {
      popup.opener = null;
      popup.location.href = consentUrl;
    } else {
      window.location.assign(consentUrl);
    }
  } catch (err) {
    popup?.close();
    throw err;
  }
}

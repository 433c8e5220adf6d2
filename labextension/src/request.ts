import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The outcome of a call to the remote-dev API: the JSON body, or the status and error message.
 * Status 0 means the server could not be reached at all.
 */
export type ApiResult<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; message: string };

function messageOf(body: unknown): string | null {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = body.message;
    return typeof message === 'string' && message ? message : null;
  }
  return null;
}

/**
 * Call `{base_url}remote-dev/api/<path>` through ServerConnection (token or XSRF header added).
 */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  query: Record<string, string> = {}
): Promise<ApiResult<T>> {
  const settings = ServerConnection.makeSettings();
  const search = new URLSearchParams(query).toString();
  const url =
    URLExt.join(settings.baseUrl, 'remote-dev', 'api', path) + (search ? `?${search}` : '');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    return { ok: false, status: 0, message: `server not reachable: ${String(error)}` };
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = messageOf(body) ?? (response.statusText || `HTTP ${response.status}`);
    return { ok: false, status: response.status, message };
  }
  if (body === null || typeof body !== 'object') {
    return {
      ok: false,
      status: response.status,
      message: 'the server answered something other than JSON'
    };
  }
  return { ok: true, status: response.status, data: body as T };
}

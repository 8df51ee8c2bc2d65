// The one way the dashboard talks to the gateway: same-origin fetch with the session cookie, JSON
// in and out, the CSRF token on every state-changing request, and errors turned into ApiError with
// the API's stable code (docs/api.md, "Errors").

export class ApiError extends Error {
  constructor(
    readonly status: number, // 0: the gateway could not be reached
    readonly code: string, // the API's error code, or "network" / "http_<status>" / "malformed_answer"
    message: string,
    readonly retryAfterS: number | null = null, // from Retry-After, when the answer had one
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// The CSRF token of the current session: kept in memory only (never in storage), set after signing
// in and after GET /api/v1/session.
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

// Called when an API answer says the session is gone (401) or must first enrol a second factor
// (403 second_factor_enrolment_required), for routes other than the session's own; the app sends
// the user to the right page.
type SessionListener = (error: ApiError) => void;
let sessionListener: SessionListener | null = null;

export function onSessionProblem(listener: SessionListener): void {
  sessionListener = listener;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function retryAfter(response: Response): number | null {
  const value = response.headers.get('Retry-After');
  if (value === null) return null;
  const seconds = Number.parseInt(value, 10);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : null;
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = `the gateway answered ${response.status}`;
  try {
    const body: unknown = await response.json();
    const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && typeof error.code === 'string') code = error.code;
    if (error && typeof error.message === 'string') message = error.message;
  } catch {
    // Not JSON (a proxy's page): keep the status.
  }
  return new ApiError(response.status, code, message, retryAfter(response));
}

export interface RequestOptions {
  body?: unknown; // sent as JSON
  raw?: { contentType: string; data: string }; // sent as it is (a signed manifest keeps its bytes)
  // Do not report 401/403 session problems to the listener (the session routes handle their own).
  quiet?: boolean;
}

// Tells the session listener about a refusal that means the session is gone, unless `quiet`.
function reported(error: ApiError, options: RequestOptions): ApiError {
  const sessionGone = error.status === 401 && (error.code === 'not_signed_in' || error.code === 'session_expired');
  const mustEnrol = error.status === 403 && error.code === 'second_factor_enrolment_required';
  if (!options.quiet && (sessionGone || mustEnrol) && sessionListener) sessionListener(error);
  return error;
}

// Sends `method path` and returns the parsed JSON answer (undefined for 204). Throws ApiError.
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.raw !== undefined) {
    headers['Content-Type'] = options.raw.contentType;
    body = options.raw.data;
  }
  if (!SAFE_METHODS.has(method) && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'the gateway cannot be reached');
  }
  if (!response.ok) throw reported(await errorOf(response), options);
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError(response.status, 'malformed_answer', 'the gateway sent an answer that is not JSON');
  }
}

// Sends `file` as the body of `method path` (application/octet-stream) and returns the parsed
// JSON answer; `progress` hears the bytes sent so far as they go. XMLHttpRequest, because fetch()
// tells nothing of an upload's progress. Throws ApiError as api() does.
export function upload<T>(method: string, path: string, file: Blob,
  progress: (sent: number, total: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, path);
    request.setRequestHeader('Accept', 'application/json');
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    if (csrfToken !== null) request.setRequestHeader('X-CSRF-Token', csrfToken);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress(event.loaded, event.total);
    });
    request.addEventListener('error', () => reject(new ApiError(0, 'network', 'the gateway cannot be reached')));
    request.addEventListener('load', () => {
      let body: unknown;
      try {
        body = request.responseText === '' ? undefined : JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status >= 200 && request.status < 300) {
        if (body === undefined && request.status !== 204) {
          reject(new ApiError(request.status, 'malformed_answer', 'the gateway sent an answer that is not JSON'));
        } else {
          resolve(body as T);
        }
        return;
      }
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      reject(reported(new ApiError(request.status,
        error && typeof error.code === 'string' ? error.code : `http_${request.status}`,
        error && typeof error.message === 'string' ? error.message : `the gateway answered ${request.status}`), {}));
    });
    request.send(file);
  });
}

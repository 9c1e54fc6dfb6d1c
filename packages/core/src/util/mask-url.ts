/**
 * A connection URL safe to show in messages and logs: its password replaced by `***`
 * (`postgres://app:***@db:5432/app`), and so is
 * any query parameter whose name says it holds a secret (`?password=`, `?token=`). A string that is not a URL is returned with anything between `:` and `@`
 * after the scheme masked too, so a password never leaks through a malformed URL.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    let masked = parsed.password !== '';
    if (masked) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (/pass|pwd|secret|token/i.test(name)) {
        parsed.searchParams.set(name, '***');
        masked = true;
      }
    }
    return masked ? parsed.toString() : url;
  } catch {
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
}

/** `host:port` of a URL (with the scheme's default port when it has none), for "nothing answers at" messages. */
export function hostOf(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? defaultPort : parsed.port}`;
  } catch {
    return maskUrl(url);
  }
}

import { redactUrl, redactUrlSecrets } from '../../src/common/redact-url';
import { openingSink } from '../../src/worker';

const PASSWORD = 'pa:ss@w/rd';

describe('redactUrl', () => {
  test.each([
    ['postgres://export:s3cret-pw@db.internal:5432/tickets', 'postgres://export:***@db.internal:5432/tickets'],
    // A password with "@" and ":" (unescaped, as people write them): blanked whole, the host kept.
    [`postgres://export:${PASSWORD}@db.internal/tickets`, 'postgres://export:***@db.internal/tickets'],
    ['postgresql://export:p%40ss@db/t?sslmode=require', 'postgresql://export:***@db/t?sslmode=require'],
    [
      'postgres://db/t?user=export&password=qs-secret&sslpassword=key-pw&sslkey=/etc/key.pem&sslcert=/etc/c.pem',
      'postgres://db/t?user=export&password=***&sslpassword=***&sslkey=/etc/key.pem&sslcert=/etc/c.pem',
    ],
    ['postgres://db/t?application_name=a@b&password=x', 'postgres://db/t?application_name=a@b&password=***'],
    ['postgres://export@db/t', 'postgres://export@db/t'],
    ['sqlite:.data/tickets.db', 'sqlite:.data/tickets.db'],
  ])('%s', (url, printed) => {
    expect(redactUrl(url)).toBe(printed);
  });

  test('the secrets of a URL are blanked in any text (an error that quotes them)', () => {
    const url = `postgres://export:${PASSWORD}@db.internal/t?password=second-secret`;
    const text = redactUrlSecrets(`failed: ${url} (password "${PASSWORD}", ${encodeURIComponent(PASSWORD)})`, url);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
    expect(text).not.toContain('second-secret');
    expect(text).toContain('db.internal');
  });

  test('an error from opening the sink names SINK_URL without its password', async () => {
    const url = `postgres://export:${PASSWORD}@db.internal/t`;
    const error = await openingSink(url, () => Promise.reject(new Error(`cannot connect to ${url}: ${PASSWORD}`))).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/^cannot open the sink postgres:\/\/export:\*\*\*@db\.internal\/t: /);
    expect(error?.message).not.toContain(PASSWORD);
  });
});

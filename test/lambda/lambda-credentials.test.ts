import { defaultProvider, environmentCredentials } from '../../lambda/shared/lambda-credentials';

describe('the Lambda environment credentials (the bundle default provider)', () => {
  test('GIVEN the three variables Lambda sets THEN they are the credentials', () => {
    // WHEN
    const credentials = environmentCredentials({
      AWS_ACCESS_KEY_ID: 'AKIDLAMBDA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    // THEN
    expect(credentials).toEqual({
      accessKeyId: 'AKIDLAMBDA',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
  });

  test('GIVEN long-term keys without a session token THEN the credentials have no token', () => {
    expect(
      environmentCredentials({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' }),
    ).toEqual({ accessKeyId: 'AKID', secretAccessKey: 'secret' });
  });

  test('GIVEN no credentials in the environment THEN a MISCONFIGURED error names both missing variables', () => {
    // WHEN
    let error: unknown;
    try {
      environmentCredentials({});
    } catch (caught) {
      error = caught;
    }
    // THEN
    expect(error).toMatchObject({ name: 'EnvironmentError', code: 'MISCONFIGURED' });
    expect((error as Error).message).toMatch(
      /^no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\. The Lambda runtime sets/,
    );
  });

  test('GIVEN only the secret is blank THEN the error names only AWS_SECRET_ACCESS_KEY', () => {
    expect(() =>
      environmentCredentials({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: '  ' }),
    ).toThrow(/^no AWS credentials: AWS_SECRET_ACCESS_KEY is not set\./);
  });

  describe('defaultProvider, as the SDK clients call it', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    test('GIVEN the variables set WHEN the provider is asked THEN it resolves to them', async () => {
      process.env.AWS_ACCESS_KEY_ID = 'AKIDNOW';
      process.env.AWS_SECRET_ACCESS_KEY = 'now';
      delete process.env.AWS_SESSION_TOKEN;
      await expect(defaultProvider({ region: 'eu-west-1' })()).resolves.toEqual({
        accessKeyId: 'AKIDNOW',
        secretAccessKey: 'now',
      });
    });

    test('GIVEN the variables missing WHEN the provider is asked THEN it rejects (creating it does not throw)', async () => {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const provider = defaultProvider();
      await expect(provider()).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    });
  });
});

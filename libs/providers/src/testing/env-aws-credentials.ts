import { after, before } from 'node:test';

/** The static keys a fake Bedrock Runtime verifies signatures with. */
export interface StaticAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** AWS's documentation example keys, which the Bedrock specs sign with. */
export const TEST_AWS_CREDENTIALS: StaticAwsCredentials = {
  accessKeyId: 'AKIDEXAMPLETEST',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/**
 * `credentials` in the environment, in region us-east-1, for the `describe` it is called
 * in (call it before the hooks that build an adapter): the default credential chain finds
 * static keys there first, with no session token or profile to prefer. The environment is
 * put back as it was after the cases.
 */
export function useEnvAwsCredentials(credentials: StaticAwsCredentials): void {
  const saved = { ...process.env };
  before(() => {
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    process.env.AWS_REGION = 'us-east-1';
  });
  after(() => {
    process.env = saved;
  });
}

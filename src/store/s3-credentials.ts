/**
 * `[s3.credentials]` → an AWS SDK credential provider.
 *
 * default: the SDK's chain (env, shared files, SSO, web identity, ECS/EC2 roles); env: only
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; profile: one named profile from
 * the shared files; explicit: the keys in the config. `role_arn` assumes that role on top.
 */
import { fromEnv, fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from '../config/index.js';

type CredentialProvider = Extract<NonNullable<S3ClientConfig['credentials']>, (...args: never[]) => unknown>;

export function credentialsFor(config: Config): CredentialProvider | undefined {
  const c = config.s3.credentials;
  let base: CredentialProvider | undefined;
  switch (c.type) {
    case 'default':
      base = undefined;
      break;
    case 'env':
      base = fromEnv();
      break;
    case 'profile':
      base = fromIni({ profile: c.profile });
      break;
    case 'explicit': {
      const identity = {
        accessKeyId: c.access_key_id,
        secretAccessKey: c.secret_access_key,
        ...(c.session_token ? { sessionToken: c.session_token } : {}),
      };
      base = async () => identity;
      break;
    }
  }
  if (c.role_arn === '') return base;
  return fromTemporaryCredentials({
    params: { RoleArn: c.role_arn, RoleSessionName: 's3-parquet-connector' },
    ...(base ? { masterCredentials: base } : {}),
    clientConfig: { region: config.s3.region },
  });
}

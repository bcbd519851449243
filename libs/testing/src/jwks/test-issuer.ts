import { createHmac } from 'node:crypto';
import {
  SignJWT,
  base64url,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export type AsymmetricAlg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

export interface SignOptions {
  readonly issuer?: string;
  readonly audience?: string | string[];
  /** Seconds from now; negative for a token already expired. Default one hour. */
  readonly expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  readonly notBefore?: number;
  /** Overrides the key id in the header (for an id the key set does not know). */
  readonly kid?: string;
  /** Leaves `exp` out. */
  readonly noExpiry?: boolean;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

let keyCounter = 0;

/** An identity provider for tests: keeps signing keys, rotates them, signs tokens. */
export class TestIssuer {
  private constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly alg: AsymmetricAlg,
    private current: SigningKey,
  ) {}

  static async create(
    issuer = 'https://auth.test.local',
    audience = 'ai-gateway',
    alg: AsymmetricAlg = 'RS256',
  ): Promise<TestIssuer> {
    return new TestIssuer(issuer, audience, alg, await newKey(alg));
  }

  get kid(): string {
    return this.current.kid;
  }

  /** The public half of the current key, as a key set member. */
  get publicJwk(): JWK {
    return this.current.publicJwk;
  }

  /** Switches to a fresh key pair; returns the new public key. */
  async rotate(): Promise<JWK> {
    this.current = await newKey(this.alg);
    return this.current.publicJwk;
  }

  sign(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
    return signWith(this.current.privateKey, this.alg, options.kid ?? this.current.kid, claims, {
      issuer: this.issuer,
      audience: this.audience,
      ...options,
    });
  }

  /** Signs with a key that is not in any published set, under the current key id. */
  async signWithForeignKey(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
    const foreign = await newKey(this.alg);
    return signWith(foreign.privateKey, this.alg, this.current.kid, claims, {
      issuer: this.issuer,
      audience: this.audience,
      ...options,
    });
  }

  /** An `alg: none` token with these claims: no signature at all. */
  unsigned(claims: JWTPayload): string {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: this.kid }));
    const payload = base64url.encode(JSON.stringify(this.defaults(claims)));
    return `${header}.${payload}.`;
  }

  /**
   * An HS256 token whose HMAC secret is the published public key: the classic confusion
   * attack against verifiers that let the token choose the algorithm.
   */
  hmacWithPublicKey(claims: JWTPayload): string {
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: this.kid }));
    const payload = base64url.encode(JSON.stringify(this.defaults(claims)));
    const secret = JSON.stringify(this.publicJwk);
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    return `${header}.${payload}.${base64url.encode(signature)}`;
  }

  private defaults(claims: JWTPayload): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { iss: this.issuer, aud: this.audience, iat: now, exp: now + 3600, ...claims };
  }
}

async function newKey(alg: AsymmetricAlg): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  keyCounter += 1;
  const kid = `test-key-${process.pid}-${keyCounter}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function signWith(
  key: CryptoKey,
  alg: AsymmetricAlg,
  kid: string,
  claims: JWTPayload,
  options: SignOptions & { issuer: string; audience: string | string[] },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now);
  if (!options.noExpiry) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(key);
}

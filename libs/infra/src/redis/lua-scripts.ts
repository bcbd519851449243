// Typed Lua scripts for Redis: each is sent once, then run by its SHA1 (EVALSHA); a server
// that has lost its script cache (restart, SCRIPT FLUSH, failover) answers NOSCRIPT and
// the script is sent again with EVAL.
import { createHash } from 'node:crypto';

/** The two commands a script needs; ioredis' Redis and Cluster both have them. */
export interface LuaCapableClient {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

export interface LuaScript<
  Keys extends readonly string[],
  Args extends readonly (string | number)[],
  Result,
> {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
  readonly keyCount: Keys['length'];
  /** Turns Redis' raw reply into the script's result type, or throws. */
  readonly decode: (reply: unknown) => Result;
  run(client: LuaCapableClient, keys: Keys, args: Args): Promise<Result>;
}

export interface LuaScriptDefinition<Result> {
  readonly name: string;
  readonly source: string;
  readonly keyCount: number;
  readonly decode: (reply: unknown) => Result;
}

export function defineLuaScript<
  Keys extends readonly string[],
  Args extends readonly (string | number)[],
  Result,
>(
  definition: LuaScriptDefinition<Result> & { keyCount: Keys['length'] },
): LuaScript<Keys, Args, Result> {
  const sha1 = createHash('sha1').update(definition.source).digest('hex');
  return {
    ...definition,
    sha1,
    async run(client, keys, args) {
      if (keys.length !== definition.keyCount) {
        throw new Error(
          `${definition.name}: expected ${definition.keyCount} keys, got ${keys.length}`,
        );
      }
      let reply: unknown;
      try {
        reply = await client.evalsha(sha1, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        reply = await client.eval(definition.source, keys.length, ...keys, ...args);
      }
      return definition.decode(reply);
    },
  };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Scripts by name, for loading them all at start (SCRIPT LOAD) and for lookups. */
export class LuaScriptRegistry {
  private readonly scripts = new Map<
    string,
    LuaScript<readonly string[], readonly (string | number)[], unknown>
  >();

  register<K extends readonly string[], A extends readonly (string | number)[], R>(
    script: LuaScript<K, A, R>,
  ): LuaScript<K, A, R> {
    const existing = this.scripts.get(script.name);
    if (existing && existing.sha1 !== script.sha1) {
      throw new Error(`Lua script "${script.name}" registered twice with different sources`);
    }
    this.scripts.set(script.name, script);
    return script;
  }

  names(): string[] {
    return [...this.scripts.keys()].sort();
  }

  /** Loads every script into the server's cache so the first EVALSHA already hits. */
  async preload(client: {
    script(subcommand: 'LOAD', source: string): Promise<unknown>;
  }): Promise<void> {
    for (const script of this.scripts.values()) {
      const sha = await client.script('LOAD', script.source);
      if (sha !== script.sha1) throw new Error(`Lua script "${script.name}": server SHA1 differs`);
    }
  }
}

/** Decoders for common replies. */
export const luaReply = {
  integer: (reply: unknown): number => {
    if (typeof reply !== 'number' || !Number.isInteger(reply)) {
      throw new TypeError(`expected an integer reply, got ${typeof reply}`);
    }
    return reply;
  },
  integers: (reply: unknown): number[] => {
    if (!Array.isArray(reply)) throw new TypeError(`expected an array reply, got ${typeof reply}`);
    return reply.map((item) => luaReply.integer(item));
  },
} as const;

import { describe, expect, it } from 'vitest';
import {
  isNftError,
  isNftKernelError,
  isNftNotFoundError,
  isNftSyntaxError,
  isNftUnavailableError,
  NftCommandError,
  nftErrorFromFailure,
  NftKernelError,
  NftSyntaxError,
  NftUnavailableError,
  type NftOperation,
} from '../src/index.js';

// Every stderr below is verbatim nft 1.0.6 / iproute2 output seen on Debian 12.
const fail = (stderr: string, operation: NftOperation = 'apply', exitCode = 1) => nftErrorFromFailure({ stderr, exitCode, operation });

describe('nftErrorFromFailure', () => {
  it('a parse error is NftSyntaxError with line and columns', () => {
    const e = fail(`/dev/stdin:3:41-41: Error: syntax error, unexpected newline
add rule inet natfleet postrouting bogus
                                        ^
`);
    expect(e).toBeInstanceOf(NftSyntaxError);
    expect(e).toMatchObject({ code: 'NFT_SYNTAX', line: 3, column: 41, columnEnd: 41, retryable: false });
    expect(e.stderr).toContain('unexpected newline');
    expect(isNftSyntaxError(e)).toBe(true);
  });

  it('an evaluation error (port mapping without l4proto) is NftSyntaxError', () => {
    const e = fail(`/dev/stdin:6:37-46: Error: transport protocol mapping is only valid after transport protocol match
 ip saddr 10.0.0.0/8 masquerade to :1024-65535
                     ~~~~~~~~~~     ^^^^^^^^^^`);
    expect(e).toMatchObject({ code: 'NFT_SYNTAX', line: 6, column: 37, columnEnd: 46 });
  });

  it('accepts the short "-:L:C" location form', () => {
    expect(fail('-:3:5: Error: syntax error, unexpected string')).toMatchObject({ code: 'NFT_SYNTAX', line: 3, column: 5, columnEnd: undefined });
  });

  it('a kernel refusal is NftKernelError with the errno text', () => {
    const e = fail(`/dev/stdin:4:2-11: Error: Could not process rule: Operation not supported
 masquerade
 ^^^^^^^^^^`);
    expect(e).toBeInstanceOf(NftKernelError);
    expect(e).toMatchObject({ code: 'NFT_KERNEL', reason: 'Operation not supported', line: 4, column: 2, retryable: false });
    expect(isNftKernelError(e)).toBe(true);
    expect(fail('Error: Could not process rule: Device or resource busy').retryable).toBe(true);
  });

  it('"No such file or directory" is not-found for read and delete, a kernel error for apply', () => {
    const list = `Error: No such file or directory
list table inet natfleet
                ^^^^^^^^`;
    expect(isNftNotFoundError(fail(list, 'read'))).toBe(true);
    const del = `Error: Could not process rule: No such file or directory
delete table inet natfleet
                  ^^^^^^^^`;
    expect(isNftNotFoundError(fail(del, 'delete'))).toBe(true);
    expect(fail(`/dev/stdin:1:19-24: Error: Could not process rule: No such file or directory`, 'apply')).toMatchObject({ code: 'NFT_KERNEL' });
  });

  it('no permission is NftUnavailableError (permission)', () => {
    for (const stderr of [
      'netlink: Error: cache initialization failed: Operation not permitted',
      'Operation not permitted (you must be root)',
      'setting the network namespace "nf-1-aa-node" failed: Operation not permitted',
    ]) {
      const e = fail(stderr, 'read');
      expect(e).toBeInstanceOf(NftUnavailableError);
      expect(e).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'permission' });
      expect(e.message).toContain('CAP_NET_ADMIN');
    }
  });

  it('a missing namespace or binary behind ip netns exec is NftUnavailableError, never not-found', () => {
    expect(fail('Cannot open network namespace "nosuch": No such file or directory', 'read', 255)).toMatchObject({ reason: 'netns' });
    const e = fail('exec of "/nonexistent/nft" failed: No such file or directory', 'read', 255);
    expect(e).toMatchObject({ reason: 'missing-binary', debianPackage: 'nftables' });
    expect(isNftUnavailableError(e)).toBe(true);
  });

  it('anything else is NftCommandError, still an NftError', () => {
    const e = fail('', 'apply', 139);
    expect(e).toBeInstanceOf(NftCommandError);
    expect(isNftError(e, 'NFT_FAILED')).toBe(true);
    expect(isNftError(e, 'NFT_SYNTAX')).toBe(false);
    expect(e.name).toBe('NftCommandError');
  });
});

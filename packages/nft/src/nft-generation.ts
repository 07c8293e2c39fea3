/**
 * The kernel's nftables ruleset generation id: how drift checks stay cheap at any table
 * size. The kernel keeps one 32-bit counter per network namespace and bumps it by exactly
 * one on every committed transaction, by anyone, to any table (an empty or failed batch,
 * a `nft -c` check and every listing leave it alone; it skips 0 when it wraps). If the
 * counter has not moved since the table was last known good, nothing has changed it: not
 * its rules, not its comment, not one set element.
 *
 * What nft 1.0.6 (Debian 12) offers for it, measured on the reference machine:
 * - the JSON `metainfo` object holds only `version`, `release_name` and
 *   `json_schema_version`; no listing prints the generation;
 * - `nft --echo` and `nft monitor` print `# new generation N by process P (nft)`, but
 *   only for a commit (echo) or as a long-running watcher that first loads the whole
 *   ruleset, set elements included (132 MB at 100k elements; reverted in af9ff2c);
 * - `nft --debug=mnl` dumps the requests it sends (NFT_MSG_GETGEN among them), not the
 *   kernel's answer;
 * - even `nft list tables` fetches every set element in 1.0.6 (~0.7 s at 100k);
 * - /proc and /proc/sys/net/netfilter expose nothing about nf_tables.
 * So the generation is asked of the kernel directly: one NFT_MSG_GETGEN request on a
 * NETLINK_NETFILTER socket, answered by NFT_MSG_NEWGEN with NFTA_GEN_ID. Node has no
 * netlink sockets and natfleet has no FFI dependency, so the request is the small Perl
 * program below: perl-base is Essential in Debian (present on every node that has the
 * nftables package) and its builtins open netlink sockets. It needs CAP_NET_ADMIN like
 * nft. Pure: this module only holds the program text and parses its output.
 */

/**
 * Perl: send NFT_MSG_GETGEN ((NFNL_SUBSYS_NFTABLES 10 << 8) | 16) with NLM_F_REQUEST on an
 * AF_NETLINK (16) / SOCK_RAW (3) / NETLINK_NETFILTER (12) socket, print NFTA_GEN_ID (1,
 * big-endian) of the NFT_MSG_NEWGEN (0x0a0f) answer. Netlink headers are host order; the
 * nfgenmsg is AF_UNSPEC, version 0. An NLMSG_ERROR (2) answer prints its errno text
 * (e.g. "Operation not permitted") and exits 1. No modules, so it starts in a few ms.
 */
export const GENERATION_PROGRAM = [
  'socket(my $s, 16, 3, 12) or die "netlink socket: $!\\n";',
  'send($s, pack("LSSLL CCn", 20, 0x0a10, 1, 1, 0, 0, 0, 0), 0, pack("SSLL", 16, 0, 0, 0)) or die "netlink send: $!\\n";',
  'defined(recv($s, my $buf, 65536, 0)) or die "netlink recv: $!\\n";',
  'my ($len, $type) = unpack("LS", $buf);',
  'if ($type == 2) { $! = -unpack("x16 l", $buf); die "netlink: $!\\n" }',
  'die "netlink: unexpected message type $type\\n" unless $type == 0x0a0f;',
  'for (my $o = 20; $o + 4 <= $len; ) { my ($l, $t) = unpack("x$o SS", $buf); if (($t & 0x7fff) == 1 && $l >= 8) { print unpack("x" . ($o + 4) . " N", $buf), "\\n"; exit 0 } last if $l < 4; $o += ($l + 3) & ~3 }',
  'die "netlink: no NFTA_GEN_ID in the answer\\n";',
].join('\n');

/** The generation printed by GENERATION_PROGRAM, or undefined when `stdout` is not one decimal u32. */
export function parseGeneration(stdout: string): number | undefined {
  const m = /^(\d{1,10})\n?$/.exec(stdout);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0xffff_ffff ? n : undefined;
}

/** The generation the kernel gives the next commit after `generation` (+1, skipping 0 on wrap). */
export function nextGeneration(generation: number): number {
  return generation >= 0xffff_ffff ? 1 : generation + 1;
}

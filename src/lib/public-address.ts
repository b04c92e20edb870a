import { BlockList, isIP } from 'node:net';

/** IPv4 ranges that are not globally reachable (IANA IPv4 Special-Purpose Address Registry), multicast and reserved. */
const NON_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", the unspecified address
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where cloud metadata services answer (169.254.169.254)
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
];

/**
 * IPv6 is public only inside 2000::/3, the global unicast space (so ::, ::1, fc00::/7, fe80::/10, fec0::/10,
 * ff00::/8 and NAT64's 64:ff9b::/96 are all outside), and not in these special ranges within it.
 */
const NON_PUBLIC_V6_IN_GLOBAL: [string, number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: carries an IPv4 address of any kind
  ['3fff::', 20], // documentation (RFC 9637)
];

function blockList(ranges: [string, number][], type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, type);
  return list;
}

const nonPublicV4 = blockList(NON_PUBLIC_V4, 'ipv4');
const globalUnicastV6 = blockList([['2000::', 3]], 'ipv6');
const nonPublicV6 = blockList(NON_PUBLIC_V6_IN_GLOBAL, 'ipv6');
const mappedV4 = blockList([['::ffff:0:0', 96]], 'ipv6');

/**
 * True when an IP address is globally reachable: false for loopback, private, link-local, unspecified,
 * documentation, multicast and other special-purpose addresses, and for anything that is not an address.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged by its IPv4 address.
 */
export function isPublicAddress(address: string): boolean {
  try {
    switch (isIP(address)) {
      case 4:
        return !nonPublicV4.check(address, 'ipv4');
      case 6:
        // BlockList matches an IPv4-mapped address against IPv4 rules.
        if (mappedV4.check(address, 'ipv6')) return !nonPublicV4.check(address, 'ipv6');
        return globalUnicastV6.check(address, 'ipv6') && !nonPublicV6.check(address, 'ipv6');
      default:
        return false;
    }
  } catch {
    // A zone index (fe80::1%eth0) or anything else BlockList cannot read: not public.
    return false;
  }
}

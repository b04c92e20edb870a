import { expect } from 'chai';
import { isPublicAddress } from '../../src/lib/public-address.ts';

describe('isPublicAddress', () => {
  it('takes globally reachable IPv4 and IPv6 unicast addresses, an IPv4-mapped one by its IPv4 address', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '203.0.114.1', '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(a), a).to.equal(true);
    }
  });

  it('refuses loopback, private, link-local, unspecified, shared, documentation, multicast and reserved addresses', () => {
    const refused = [
      ['127.0.0.1', '127.255.255.254', '::1'], // loopback
      ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1'], // private (RFC 1918, unique local fc00::/7)
      ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf::1', 'fe80::1%eth0'], // link-local: cloud metadata, fe80::/10
      ['0.0.0.0', '0.1.2.3', '::'], // unspecified, "this network"
      ['100.64.0.1', '192.0.0.1', '198.18.0.1', '192.0.2.1', '198.51.100.1', '203.0.113.1', '2001:db8::1', '3fff::1'], // shared, IETF, benchmarking, documentation
      ['224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', 'ff02::1'], // multicast, reserved, broadcast
      ['fec0::1', '::127.0.0.1', '2001::1', '2002:7f00:1::1', '64:ff9b::7f00:1', '100::1'], // site-local, IPv4-compatible, Teredo, 6to4, NAT64, discard
      ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254'], // IPv4-mapped private addresses
      ['localhost', 'example.com', '', '1.2.3', '[::1]'], // not an address at all
    ].flat();
    for (const a of refused) expect(isPublicAddress(a), a).to.equal(false);
  });
});

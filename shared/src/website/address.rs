//! Which IP addresses a lead's website may resolve to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused, or `None` when it is a public unicast address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("not unicast")
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) || (a == 192 && b == 0) {
        Some("reserved")
    } else {
        None
    }
}

/// Only global unicast (2000::/3) is a website's, bar the parts of it that are tunnels
/// or documentation; NAT64's well-known prefix is judged by the IPv4 address inside.
fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64 (64:ff9b::/96) of an IPv4 address: judge the embedded one.
        forbidden_v4(embedded_v4(s[6], s[7]))
    } else if s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001 {
        // 64:ff9b:1::/48: a translator on someone's own network, to their addresses.
        Some("NAT64 local-use")
    } else if s[0] & 0xfe00 == 0xfc00 {
        Some("private (unique local)")
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if s[0] & 0xffc0 == 0xfec0 {
        // Deprecated, yet still routed inside some networks.
        Some("site-local")
    } else if ip.is_multicast() {
        Some("not unicast")
    } else if s[..6] == [0, 0, 0, 0, 0, 0] {
        // ::a.b.c.d (deprecated): some stacks still send it to the IPv4 address.
        Some("IPv4-compatible")
    } else if s[0] & 0xe000 != 0x2000 {
        // 100::/64 (discard), the rest of ::/8, unassigned space.
        Some("not global unicast")
    } else if s[0] == 0x2002 {
        // 6to4: the relay connects to the IPv4 address in the next 32 bits, whatever it is.
        Some("6to4 tunnel")
    } else if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: an IPv4 server and client hidden in the bits.
        Some("Teredo tunnel")
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] & 0xf000 == 0) {
        // Documentation: 2001:db8::/32 and 3fff::/20.
        Some("reserved")
    } else {
        None
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Ports a website answers on. Any other is a service (a database, a metrics or admin
/// endpoint) that a crafted URL would make us talk to.
pub fn port_allowed(port: u16) -> bool {
    matches!(port, 80 | 443)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused_public_ones_pass() {
        for bad in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "127.8.8.8",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "ff02::1",
            // 6to4, whatever the IPv4 address inside.
            "2002:a00:1::1",
            "2002:808:808::1",
            // NAT64 local-use: the translator is someone's own network.
            "64:ff9b:1::808:808",
            "64:ff9b:1:ffff::1",
            // IPv4-compatible (deprecated): reaches the IPv4 address on some stacks.
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            // Site-local (deprecated, still routed inside some networks).
            "fec0::1",
            "feff::1",
            // Teredo: a tunnel to an IPv4 address hidden in the bits.
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            // Discard-only.
            "100::1",
            // Outside 2000::/3, nothing is assigned as global unicast.
            "fe00::1",
            "4000::1",
            "3fff:fff::1",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(forbidden(ip).is_some(), "{bad} allowed");
        }
        for good in [
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2001:4860:4860::8888",
            "2a00:1450:4007:80e::200e",
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(forbidden(ip), None, "{good} refused");
        }
    }

    #[test]
    fn only_the_webs_ports_are_allowed() {
        for (port, allowed) in [
            (80, true),
            (443, true),
            (8080, false),
            (22, false),
            (5432, false),
            (6379, false),
            (0, false),
        ] {
            assert_eq!(port_allowed(port), allowed, "{port}");
        }
    }
}

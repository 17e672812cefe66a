// Package outboundtest holds the destinations every test of the outbound
// policy runs against, so the policy's own tests and those of its users
// (the AI provider's guard) check the same encodings.
package outboundtest

// Address is a destination IP and how the policy must treat it.
type Address struct {
	IP string
	// RefusedAlways: refused even when every range is allowed.
	RefusedAlways bool
	// RefusedByDefault: refused with nothing allowed.
	RefusedByDefault bool
}

// Addresses covers metadata and link-local addresses in every encoding
// (IPv4-mapped, NAT64, SIIT, IPv4-compatible, 6to4, zones), loopback and
// private ranges, and public addresses that must stay reachable.
var Addresses = []Address{
	{"169.254.169.254", true, true},
	{"169.254.170.2", true, true}, // ECS task metadata
	{"169.254.0.1", true, true},
	{"fd00:ec2::254", true, true},
	{"100.100.100.200", true, true}, // Alibaba
	{"192.0.0.192", true, true},     // Oracle
	{"168.63.129.16", true, true},   // Azure wire server
	{"::ffff:169.254.169.254", true, true},
	{"::ffff:a9fe:a9fe", true, true},
	{"64:ff9b::a9fe:a9fe", true, true},       // NAT64 form of the metadata IP
	{"64:ff9b:1:a9fe:a9:fe00::", true, true}, // local-use NAT64 /48 form
	{"::ffff:0:a9fe:a9fe", true, true},       // SIIT IPv4-translated
	{"::a9fe:a9fe", true, true},              // IPv4-compatible
	{"2002:a9fe:a9fe::1", true, true},        // 6to4
	{"fe80::1", true, true},
	{"fe80::1%eth0", true, true},
	{"0.0.0.0", true, true},
	{"0.1.2.3", true, true},
	{"::", true, true},
	{"224.0.0.1", true, true},
	{"ff02::1", true, true},
	{"255.255.255.255", true, true},
	{"240.0.0.1", true, true},
	{"127.0.0.1", false, true},
	{"127.8.9.10", false, true},
	{"::1", false, true},
	{"::ffff:127.0.0.1", false, true},
	{"64:ff9b::7f00:1", false, true}, // NAT64 form of loopback
	{"2002:7f00:1::", false, true},   // 6to4 form of loopback
	{"10.1.2.3", false, true},
	{"::ffff:10.1.2.3", false, true},
	{"172.16.5.4", false, true},
	{"192.168.1.10", false, true},
	{"100.64.0.1", false, true},
	{"198.18.0.1", false, true},
	{"fd12:3456::1", false, true},
	{"fec0::1", false, true},
	{"8.8.8.8", false, false},
	{"2606:4700:4700::1111", false, false},
	{"64:ff9b::808:808", false, false},
	{"172.32.0.1", false, false},
	{"100.128.0.1", false, false},
}

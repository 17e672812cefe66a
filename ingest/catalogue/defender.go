package catalogue

import (
	"strings"

	"github.com/seliq/seliq/enum"
)

func defenderType() Type {
	s := spec{key: "defender", expand: defenderExpand, one: defenderOne}
	return Type{
		Key:    "defender",
		Name:   "Microsoft Defender / Graph security alerts",
		Vendor: "Microsoft",
		Description: "Microsoft Graph security alerts (alerts_v2, the Microsoft 365 Defender alert with evidence[]) as listed by GET /security/alerts_v2 ({\"value\": [...]}) " +
			"or one alert; also the Defender for Endpoint API alert (GET /api/alerts) and the legacy Graph security alert (hostStates/userStates).",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "severity: informational → info, low → low, medium → medium, high → high; unknown / UnSpecified or missing → medium. " +
			"Case-insensitive (Defender for Endpoint writes Informational/Low/Medium/High). Microsoft has no critical level.",
		DedupFields: []string{"source", "external_id"},
		Mapping: []FieldMapping{
			{"title", "title, AlertTitle", ""},
			{"description", "description", ""},
			{"severity", "severity", "See the severity scale."},
			{"external_id", "id, alertId, AlertId", ""},
			{"event_time", "createdDateTime, alertCreationTime, firstActivityDateTime, eventDateTime, firstEventTime", ""},
			{"mitre", "mitreTechniques[]", ""},
			{"tags", "serviceSource, detectionSource (as \"service:…\", \"detection:…\")", ""},
			{"attributes.rule", "detectorId, title", ""},
			{"attributes.category", "category", ""},
			{"attributes.host", "evidence[deviceEvidence].deviceDnsName, computerDnsName, hostStates[0].fqdn", ""},
			{"attributes.user", "evidence[userEvidence].userAccount.accountName, relatedUser.userName, evidence[entityType=User].accountName, userStates[0].accountName", ""},
			{"attributes.src_ip", "evidence[ipEvidence].ipAddress, evidence[entityType=Ip].ipAddress, hostStates[0].privateIpAddress", ""},
			{"attributes.file_hash / file_name", "evidence[fileEvidence].fileDetails.sha256|sha1 / .fileName, evidence[entityType=File].sha256|sha1 / .fileName; else the process image", ""},
			{"attributes.process / command_line", "evidence[processEvidence].imageFile.fileName / .processCommandLine", ""},
			{"attributes.url / domain", "evidence[urlEvidence].url / evidence[dnsEvidence].domainName", ""},
			{"attributes.email_from / email_to", "evidence[analyzedMessageEvidence].p1Sender.emailAddress / .recipientEmailAddress, mailboxEvidence.primaryAddress", ""},
		},
		Settings: settingsSchema("Microsoft Defender connector settings", map[string]any{
			"tenant_id":     strProp("Microsoft Entra tenant id."),
			"client_id":     strProp("Application (client) id with SecurityAlert.Read.All."),
			"client_secret": secretProp("Client secret of the application."),
			"base_url":      urlProp("Graph endpoint (national clouds differ).", "https://graph.microsoft.com"),
			"authority_url": urlProp("Microsoft Entra sign-in endpoint (national clouds differ).", "https://login.microsoftonline.com"),
			"filter":        strProp("OData $filter added to alerts_v2's createdDateTime filter when polling, e.g. severity ne 'informational'."),
		}, "tenant_id", "client_id", "client_secret"),
		Map:       s.run,
		NewPoller: newDefenderPoller,
	}
}

func defenderExpand(r record) ([]record, error) {
	if recs, ok, err := children(r, "value"); ok || err != nil {
		return recs, err
	}
	return []record{r}, nil
}

func defenderOne(r record) (Alert, error) {
	o := r.obj
	a := Alert{
		Title:       gs(o, "title", "AlertTitle"),
		Description: gs(o, "description"),
		ExternalID:  gs(o, "id", "alertId", "AlertId"),
		Severity:    defenderScale.of(first(gs(o, "severity", "Severity"))),
		EventTime:   firstTime(o, "createdDateTime", "alertCreationTime", "firstActivityDateTime", "eventDateTime", "firstEventTime", "AlertTime"),
	}
	if a.Title == "" {
		return a, unmappable("not a Microsoft security alert: no title")
	}
	for _, t := range strs(o["mitreTechniques"]) {
		if id, ok := normTechnique(t); ok {
			a.Mitre = append(a.Mitre, id)
		}
	}
	if s := gs(o, "serviceSource"); s != "" {
		a.Tags = append(a.Tags, "service:"+s)
	}
	if s := gs(o, "detectionSource"); s != "" {
		a.Tags = append(a.Tags, "detection:"+s)
	}

	at := attrs{}
	at.set(AttrRule, gs(o, "detectorId"), a.Title)
	at.set(AttrCategory, gs(o, "category", "Category"))
	at.set(AttrHost, gs(o, "computerDnsName", "ComputerDnsName"))
	at.set(AttrUser, gs(o, "relatedUser.userName"))
	var imageHash, imageName string // a process image stands in for a file when no file evidence
	for _, ev := range objs(o["evidence"]) {
		kind := strings.ToLower(gs(ev, "@odata.type"))
		if i := strings.LastIndexByte(kind, '.'); i >= 0 {
			kind = kind[i+1:]
		}
		if kind == "" {
			kind = strings.ToLower(gs(ev, "entityType"))
		}
		switch kind {
		case "deviceevidence":
			at.set(AttrHost, gs(ev, "deviceDnsName", "hostName"))
		case "userevidence":
			at.set(AttrUser, gs(ev, "userAccount.accountName", "userAccount.userPrincipalName"))
		case "ipevidence", "ip":
			at.set(AttrSrcIP, ipOnly(gs(ev, "ipAddress")))
		case "fileevidence", "file":
			at.set(AttrFileHash, gs(ev, "fileDetails.sha256", "fileDetails.sha1", "sha256", "sha1"))
			at.set(AttrFileName, gs(ev, "fileDetails.fileName", "fileName"))
		case "processevidence", "process":
			at.set(AttrProcess, gs(ev, "imageFile.fileName", "fileName"))
			at.set(AttrCommandLine, gs(ev, "processCommandLine"))
			imageHash = first(imageHash, gs(ev, "imageFile.sha256", "imageFile.sha1", "sha256", "sha1"))
			imageName = first(imageName, gs(ev, "imageFile.fileName", "fileName"))
			at.set(AttrUser, gs(ev, "userAccount.accountName", "accountName"))
		case "urlevidence", "url":
			at.set(AttrURL, gs(ev, "url"))
		case "dnsevidence":
			at.set(AttrDomain, gs(ev, "domainName"))
		case "user":
			at.set(AttrUser, gs(ev, "accountName", "userPrincipalName"))
		case "analyzedmessageevidence":
			at.set(AttrEmailFrom, gs(ev, "p1Sender.emailAddress", "p2Sender.emailAddress"))
			at.set(AttrEmailTo, gs(ev, "recipientEmailAddress"))
		case "mailboxevidence":
			at.set(AttrEmailTo, gs(ev, "primaryAddress"))
		}
	}
	at.set(AttrFileHash, imageHash)
	at.set(AttrFileName, imageName)
	// Legacy Graph security alert (v1 /security/alerts).
	at.set(AttrHost, gs(o, "hostStates.0.fqdn", "hostStates.0.netBiosName"))
	at.set(AttrSrcIP, ipOnly(gs(o, "hostStates.0.privateIpAddress")))
	at.set(AttrUser, gs(o, "userStates.0.accountName", "userStates.0.userPrincipalName"))
	at.set(AttrFileHash, gs(o, "fileStates.0.fileHash.hashValue"))
	at.set(AttrFileName, gs(o, "fileStates.0.name"))
	a.Attributes = at
	return a, nil
}

package entities

import "strings"

const (
	tldNormal uint8 = iota + 1
	// tldAmbiguous marks TLDs that are also common file extensions
	// ("install.sh", "lib.rs", "notes.zip") or field names ("user.name",
	// "event.id"): in free text they need a "www." or a known second level.
	tldAmbiguous
)

// ccTLDs: every delegated two-letter country code.
const ccTLDs = `ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz
ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr
ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp
ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt
mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru
rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw
tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw`

// gTLDs: the legacy generic TLDs, a selection of new gTLDs common in traffic
// and threat feeds (words such as "name", "email", "host", "group", "zone",
// "stream" or "date" are left out: "user.name" is a field, not a domain), and the pseudo-TLDs of internal networks (a SOC cares about
// "dc01.corp.local").
const gTLDs = `com net org edu gov mil int info biz mobi asia tel travel jobs pro aero coop museum cat
xyz top online site club shop store tech website space live life world today news blog link click fun icu vip
work buzz cloud cam cyou sbs bond lol monster quest rest best rocks digital agency company solutions systems
media studio design ninja guru dev ltd llc inc gdn kim cfd tokyo london berlin nyc paris moscow
google amazon microsoft apple
local internal lan corp localdomain intranet`

// ambiguousTLDs are on the lists above but are also file extensions or
// field names.
const ambiguousTLDs = `ac ai am cc cf in la md mk ml mm mo pl pm ps py rs sh so tf id
int pro cat app run one zip mov`

var tlds = func() map[string]uint8 {
	m := make(map[string]uint8, 400)
	for _, t := range strings.Fields(ccTLDs + " " + gTLDs) {
		m[t] = tldNormal
	}
	for _, t := range strings.Fields(ambiguousTLDs) {
		m[t] = tldAmbiguous
	}
	return m
}()

// slds are second levels under which a country TLD is certainly a domain
// ("example.co.in", "shop.com.py").
var slds = map[string]bool{
	"co": true, "com": true, "net": true, "org": true, "gov": true, "edu": true, "ac": true,
	"or": true, "ne": true, "go": true, "mil": true, "nic": true, "ltd": true, "plc": true, "sch": true,
}

package webui

import (
	"net/url"
	"testing"
	"time"
)

func TestDebug(t *testing.T) {
	srv, gql := newTestServer(t)
	b := startBrowser(t)
	b.navigate(srv.URL + "/playground/?query=" + url.QueryEscape("{ hello }"))
	b.waitFor("GraphiQL rendered", `!!document.querySelector('.graphiql-container .graphiql-execute-button')`)
	time.Sleep(2 * time.Second)
	for _, r := range gql.reqs { t.Logf("req auth=%q q=%.40q", r.Auth, r.Query) }
	t.Logf("%s", b.eval(`Array.from(document.querySelectorAll('.CodeMirror')).map(e => e.parentElement.outerHTML.slice(0,200) + ' ==> ' + e.CodeMirror.getValue())`))
	t.Logf("%s", b.eval(`document.querySelector('.graphiql-editor-tools').outerHTML`))
}

package directory_test

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// An admin creating a user with an email taken in an unrelated provider
// tree gets exactly the answer it gets for an email taken in its own tree,
// after the same password hash: nothing tells the two apart.
func TestCreateUserEmailOfAnotherTenantIsNotRevealed(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		const foreign = "victim@other-provider.test"
		otherProvider(t, db, foreign)
		admin := env.Admin()
		if res := admin.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": "mine@provider.test"}); res.Status != http.StatusCreated {
			t.Fatalf("create own user: %d %s", res.Status, res.Raw)
		}

		var hashes atomic.Int64
		t.Cleanup(directory.CountHashes(&hashes))
		create := func(email string) *apitest.Response {
			hashes.Store(0)
			res := admin.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": email, "password": "a-long-password-1"})
			if hashes.Load() != 1 {
				t.Errorf("create %s hashed %d passwords, want 1 (the same work on every path)", email, hashes.Load())
			}
			return res
		}
		ownTaken := create("MINE@provider.test")
		otherTaken := create(foreign)
		if ownTaken.Status != http.StatusUnprocessableEntity {
			t.Fatalf("email taken in own tree: status %d, want 422: %s", ownTaken.Status, ownTaken.Raw)
		}
		if otherTaken.Status != ownTaken.Status || !bytes.Equal(otherTaken.Raw, ownTaken.Raw) {
			t.Fatalf("another tenant's email is told apart:\n own:   %d %s\n other: %d %s", ownTaken.Status, ownTaken.Raw, otherTaken.Status, otherTaken.Raw)
		}
		if bytes.Contains(otherTaken.Raw, []byte("exist")) {
			t.Fatalf("answer says the account exists: %s", otherTaken.Raw)
		}

		gqlOwn := admin.GraphQL(`mutation { createUser(input: {email: "mine@provider.test"}) { id } }`, nil)
		gqlOther := admin.GraphQL(`mutation($e: String!) { createUser(input: {email: $e}) { id } }`, map[string]any{"e": foreign})
		if gqlOwn.Code() != "BAD_USER_INPUT" || gqlOther.Code() != gqlOwn.Code() || gqlOther.Errors[0].Message != gqlOwn.Errors[0].Message {
			t.Fatalf("GraphQL tells the cases apart: own %+v, other %+v", gqlOwn.Errors, gqlOther.Errors)
		}
	})
}

// otherProvider creates a second top-level organisation, unrelated to the
// test server's, with one user.
func otherProvider(t *testing.T, db *storage.DB, email string) {
	t.Helper()
	org := testenv.Org(t, db, testenv.Slug("other-provider"), testenv.Name("Other provider"))
	hash, err := auth.HashPassword("victim-password-1")
	if err != nil {
		t.Fatal(err)
	}
	testenv.User(t, db, org, enum.RoleAdmin, testenv.Handle("victim"), testenv.Email(email), testenv.PasswordHash(hash))
}

package notify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/notification"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/notify"
	"github.com/seliq/seliq/storage"
)

// queued counts the email jobs for to.
func queued(t *testing.T, db *storage.DB, to string) int {
	t.Helper()
	q := "SELECT count(*) FROM river_job WHERE kind = 'email' AND args->>'to' = ?"
	if db.Dialect == "postgres" {
		q = "SELECT count(*) FROM river_job WHERE kind = 'email' AND args->>'to' = $1"
	}
	var n int
	if err := db.SQL.QueryRowContext(context.Background(), q, to).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A notification and its email exist if and only if the change commits,
// and the email follows the user's preference, flag and account state.
func TestEmailFollowsTheTransactionAndTheUser(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		org := testenv.Org(t, db)
		actor, _ := testenv.UserContext(t, db, org, enum.RoleAnalyst)
		subject := notify.Subject{EntityType: "incident", EntityID: uuid.New(), Title: "incident #1 test"}
		assign := func(u *ent.User, fail error) error {
			return storage.InTx(actor, db.Client, func(tx *ent.Tx) error {
				if err := notify.Assigned(actor, tx.Client(), u.ID, subject); err != nil {
					return err
				}
				return fail
			})
		}
		rows := func(u *ent.User) int {
			n, err := db.Client.Notification.Query().Where(notification.UserID(u.ID)).Count(privacy.DecisionContext(actor, privacy.Allow))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		set := func(u *ent.User, update func(*ent.UserUpdateOne)) {
			up := db.Client.User.UpdateOne(u)
			update(up)
			if err := up.Exec(actor); err != nil {
				t.Fatal(err)
			}
		}

		rolledBack := errors.New("rolled back")
		u := testenv.User(t, db, org, enum.RoleAnalyst)
		if err := assign(u, rolledBack); !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		if rows(u) != 0 || queued(t, db, u.Email) != 0 {
			t.Fatal("a rolled-back change left a notification or an email")
		}
		if err := assign(u, nil); err != nil {
			t.Fatal(err)
		}
		if rows(u) != 1 || queued(t, db, u.Email) != 1 {
			t.Fatalf("committed: %d rows, %d emails; want 1 and 1", rows(u), queued(t, db, u.Email))
		}

		for _, c := range []struct {
			name        string
			update      func(*ent.UserUpdateOne)
			rows, mails int
		}{
			{"email only", func(up *ent.UserUpdateOne) {
				up.SetNotificationPrefs(map[string]map[string]bool{"assigned": {"in_app": false, "email": true}})
			}, 0, 1},
			{"email flag off", func(up *ent.UserUpdateOne) {
				up.SetFeatures(map[string]bool{"email_notifications": false})
			}, 1, 0},
			{"deactivated", func(up *ent.UserUpdateOne) { up.SetActive(false) }, 1, 0},
			{"both channels off", func(up *ent.UserUpdateOne) {
				up.SetNotificationPrefs(map[string]map[string]bool{"assigned": {"in_app": false, "email": false}})
			}, 0, 0},
		} {
			u := testenv.User(t, db, org, enum.RoleAnalyst)
			set(u, c.update)
			if err := assign(u, nil); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if rows(u) != c.rows || queued(t, db, u.Email) != c.mails {
				t.Fatalf("%s: %d rows, %d emails; want %d and %d", c.name, rows(u), queued(t, db, u.Email), c.rows, c.mails)
			}
		}
	})
}

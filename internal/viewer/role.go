package viewer

import "github.com/seliq/seliq/enum"

var roleRank = map[enum.Role]int{enum.RoleReadOnly: 1, enum.RoleAnalyst: 2, enum.RoleAdmin: 3}

// HasRole reports whether the viewer's role is at least min
// (read_only < analyst < admin). Connectors hold no role.
func (v *Viewer) HasRole(min enum.Role) bool {
	return v != nil && v.Kind == KindUser && roleRank[v.Role] >= roleRank[min]
}

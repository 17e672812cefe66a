package opt

import "testing"

func TestValue(t *testing.T) {
	var absent Value[*int]
	if absent.IsSet() || absent.Value() != nil {
		t.Fatal("zero Value is set")
	}
	null := Of[*int](nil)
	if !null.IsSet() || null.Value() != nil {
		t.Fatal("Of(nil) is not a set null")
	}
	n := 3
	var v Value[*int]
	v.Set(&n)
	if !v.IsSet() || v.Value() != &n {
		t.Fatal("Set did not set the value")
	}
}

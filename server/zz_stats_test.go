package server_test

import (
	"os"
	"testing"

	"github.com/seliq/seliq/internal/apitest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	println("CONTRACT:", apitest.ContractStats())
	os.Exit(code)
}

package storage

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"sync"

	"modernc.org/sqlite"
)

// SQLiteRegexpFunction is the SQL function seliq_re2(pattern, text): whether
// text matches pattern with Go's RE2, the engine the query language's
// `matches` is defined by. SQLite has no regular expressions of its own.
const SQLiteRegexpFunction = "seliq_re2"

// maxCachedPatterns bounds the compiled patterns kept between calls.
const maxCachedPatterns = 256

var patterns = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

func compiledPattern(p string) (*regexp.Regexp, error) {
	patterns.Lock()
	defer patterns.Unlock()
	if re, ok := patterns.m[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	if len(patterns.m) >= maxCachedPatterns {
		clear(patterns.m)
	}
	patterns.m[p] = re
	return re, nil
}

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(SQLiteRegexpFunction, 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			p, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("%s: the pattern must be text", SQLiteRegexpFunction)
			}
			re, err := compiledPattern(p)
			if err != nil {
				return nil, err
			}
			switch s := args[1].(type) {
			case string:
				return re.MatchString(s), nil
			case []byte:
				return re.Match(s), nil
			case nil:
				return false, nil
			}
			return re.MatchString(fmt.Sprint(args[1])), nil
		})
}

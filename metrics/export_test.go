package metrics

// WithExactUpTo sets how many durations a range may hold to be computed
// from the alerts (0: always from the histograms), and returns s.
func (s *Service) WithExactUpTo(n int) *Service {
	s.exactUpTo = n
	return s
}

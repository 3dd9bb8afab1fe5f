package valkeystore

// WaitTails returns once the index updates of the partition's claims so far have run (tests).
func (s *Store) WaitTails(p string) { s.tails.wait(p) }

// Package smtpfake is a real SMTP server for tests (emersion/go-smtp) on a
// loopback port: STARTTLS or implicit TLS with a self-signed certificate,
// PLAIN authentication, and the messages it accepted, parsed. It can stop
// and start again on the same port, to test a server that is down.
package smtpfake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Modes of the server's transport security.
const (
	StartTLS = "starttls"
	TLS      = "tls"
	Plain    = "none"
)

// Options configure a Server.
type Options struct {
	// Mode is StartTLS (default), TLS or Plain.
	Mode string
	// Username and Password, when set, are required (PLAIN).
	Username, Password string
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Parsed reads the message's headers and body.
func (m Message) Parsed() (*mail.Message, error) { return mail.ReadMessage(bytes.NewReader(m.Data)) }

// Server is the running fake.
type Server struct {
	t    testing.TB
	opts Options
	// Host and Port are where it listens (127.0.0.1).
	Host string
	Port int
	// CertPool trusts its self-signed certificate.
	CertPool *x509.CertPool
	cert     tls.Certificate

	mu       sync.Mutex
	msgs     []Message
	authFail int
	srv      *smtp.Server
}

// Start runs a server on a free loopback port, stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	s := Reserve(t, opts)
	s.Up()
	return s
}

// Reserve picks a port and prepares a server without starting it: a
// client connecting meanwhile is refused.
func Reserve(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Mode == "" {
		opts.Mode = StartTLS
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cert, pool := selfSigned(t)
	s := &Server{t: t, opts: opts, Host: "127.0.0.1", Port: port, CertPool: pool, cert: cert}
	t.Cleanup(s.Down)
	return s
}

// Up starts listening.
func (s *Server) Up() {
	s.t.Helper()
	srv := smtp.NewServer(&backend{s: s})
	srv.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 20 << 20
	srv.AllowInsecureAuth = s.opts.Mode == Plain
	var l net.Listener
	var err error
	switch s.opts.Mode {
	case TLS:
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}}
		l, err = tls.Listen("tcp", srv.Addr, srv.TLSConfig)
	case StartTLS:
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}}
		l, err = net.Listen("tcp", srv.Addr)
	default:
		l, err = net.Listen("tcp", srv.Addr)
	}
	if err != nil {
		s.t.Fatalf("smtpfake listen: %v", err)
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Down stops listening; connections are then refused.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// AuthFailures counts refused authentications.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

type backend struct{ s *Server }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opts.Username || pass != x.s.opts.Password {
			x.s.mu.Lock()
			x.s.authFail++
			x.s.mu.Unlock()
			// What real servers answer (RFC 4954).
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: x.to, Data: data})
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtpfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Username is the account the server requires ("" for none).
func (s *Server) Username() string { return s.opts.Username }

// Password is the account's password.
func (s *Server) Password() string { return s.opts.Password }

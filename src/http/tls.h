// TLS for `serve --tls-cert FILE --tls-key FILE` (docs/http.md, "TLS"):
// the server's OpenSSL contexts, built from PEM files and swapped on SIGHUP.
//
//   auto tls = TlsContexts::Load({"chain.pem", "key.pem"});   // refuses bad files
//   if (!tls.ok()) return ReportError(tls.status(), kExitInput);
//   std::shared_ptr<asio::ssl::context> ctx = (*tls)->Current();  // per new connection
//   Status s = (*tls)->Reload();  // SIGHUP: new files for new connections
//
// A context speaks TLS 1.2 and 1.3 only, with forward-secret AEAD ciphers
// (ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2; OpenSSL's TLS 1.3
// suites), no compression, no renegotiation. The certificate file holds the
// server certificate first, then its intermediates (a chain); the key file
// an unencrypted PEM private key that matches the certificate.
// Reload: a connection keeps the context it was accepted with (it holds a
// shared_ptr); a reload that fails leaves the current context in place.
// Thread-safety: Current() and Reload() may be called from any thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace aquasense::http {

struct TlsFiles {
  std::string cert_chain;  // PEM: the server certificate, then intermediates
  std::string key;         // PEM: its private key, unencrypted
};

// A server context from `files`. Errors (kInvalidArgument, the message naming
// the file and OpenSSL's reason): a file missing or unreadable, not PEM, no
// certificate in it, an encrypted key, a key that does not match.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files);

// "serial 1A2B..., subject CN=..., not after 2027-12-04" of the context's
// certificate (log lines, tests), or "no certificate".
std::string DescribeCertificate(boost::asio::ssl::context& ctx);

class TlsContexts {
 public:
  // Loads `files` once; the error of MakeServerTlsContext otherwise.
  static Result<std::unique_ptr<TlsContexts>> Load(TlsFiles files);

  // The context new connections use.
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  // Reads the files again. On success new connections get the new context;
  // on error (the message says the old certificate stays) nothing changes.
  Status Reload();
  // How many reloads succeeded.
  uint64_t generation() const;

 private:
  TlsContexts(TlsFiles files, std::shared_ptr<boost::asio::ssl::context> ctx)
      : files_(std::move(files)), current_(std::move(ctx)) {}

  const TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mu_
  uint64_t generation_ = 0;                             // guarded by mu_
};

}  // namespace aquasense::http

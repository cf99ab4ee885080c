#include "http/tls.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

namespace aquasense::http {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla's "intermediate"
// list without DHE). TLS 1.3 uses OpenSSL's defaults, all of them AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Refuses a path that cannot be opened, with the system's reason (OpenSSL's
// own message for a missing file is less clear).
Status CheckReadable(const std::string& path, const char* what) {
  if (path.empty()) return InvalidArgument(std::string("the TLS ") + what + " file is not set");
  std::ifstream in(path, std::ios::binary);
  std::string reason;
  if (!in) {
    reason = std::strerror(errno);
  } else if (in.peek() == std::ifstream::traits_type::eof()) {
    reason = "it is empty";
  } else {
    return Status::Ok();
  }
  return InvalidArgument(std::string("cannot read the TLS ") + what + " file " + path + ": " +
                         reason);
}

std::string OpenSslReason(const boost::system::error_code& ec) {
  std::string m = ec.message();
  return m.empty() ? "unknown OpenSSL error" : m;
}

std::string Hex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (bn == nullptr) return "?";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "?";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

Status ConfigureProtocol(ssl::context& ctx) {
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::no_compression,
                  ec);
  SSL_CTX* native = ctx.native_handle();
  if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Internal("cannot configure the TLS protocol versions and ciphers");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  return Status::Ok();
}

// No passphrase: an encrypted key fails to load instead of OpenSSL prompting
// on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string OpenSslQueue() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  const char* lib = ERR_lib_error_string(e);
  return std::string(reason != nullptr ? reason : "unknown OpenSSL error") +
         (lib != nullptr ? std::string(" (") + lib + ")" : "");
}

// Reads the key and installs it once it is known to match the certificate.
Status UseKey(ssl::context& ctx, const TlsFiles& files) {
  BIO* bio = BIO_new_file(files.key.c_str(), "r");
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) {
    return InvalidArgument("the TLS key file " + files.key +
                           " holds no usable unencrypted PEM private key: " + OpenSslQueue());
  }
  SSL_CTX* native = ctx.native_handle();
  Status st;
  if (X509_check_private_key(SSL_CTX_get0_certificate(native), key) != 1) {
    ERR_clear_error();
    st = InvalidArgument("the TLS key file " + files.key + " does not match the certificate in " +
                         files.cert_chain);
  } else if (SSL_CTX_use_PrivateKey(native, key) != 1) {
    st = InvalidArgument("cannot use the TLS key in " + files.key + ": " + OpenSslQueue());
  }
  EVP_PKEY_free(key);
  return st;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsFiles& files) {
  AQ_RETURN_IF_ERROR(CheckReadable(files.cert_chain, "certificate"));
  AQ_RETURN_IF_ERROR(CheckReadable(files.key, "key"));
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  AQ_RETURN_IF_ERROR(ConfigureProtocol(*ctx));
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files.cert_chain, ec);
  if (ec) {
    return InvalidArgument("the TLS certificate file " + files.cert_chain +
                           " holds no usable PEM certificate chain: " + OpenSslReason(ec));
  }
  AQ_RETURN_IF_ERROR(UseKey(*ctx, files));
  return ctx;
}

std::string DescribeCertificate(ssl::context& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (cert == nullptr) return "no certificate";
  std::string out = "serial " + Hex(X509_get0_serialNumber(cert));
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  out += std::string(", subject ") + subject;
  tm not_after{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &not_after) == 1) {
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%d", &not_after);
    out += std::string(", not after ") + day;
  }
  return out;
}

Result<std::unique_ptr<TlsContexts>> TlsContexts::Load(TlsFiles files) {
  auto ctx = MakeServerTlsContext(files);
  if (!ctx.ok()) return ctx.status();
  return std::unique_ptr<TlsContexts>(new TlsContexts(std::move(files), std::move(*ctx)));
}

std::shared_ptr<ssl::context> TlsContexts::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status TlsContexts::Reload() {
  auto ctx = MakeServerTlsContext(files_);  // outside the lock: reads files
  if (!ctx.ok()) {
    return Status(ctx.status().code(),
                  ctx.status().message() + "; the current certificate stays in use");
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(*ctx);
  ++generation_;
  return Status::Ok();
}

uint64_t TlsContexts::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

}  // namespace aquasense::http

#include "http/tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace aquasense::http {
namespace {

namespace fs = std::filesystem;

// A self-signed P-256 certificate with `serial`, written as PEM files.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  TestCert(long serial) {  // NOLINT
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  void WriteCert(const fs::path& p) const {
    FILE* f = std::fopen(p.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
  }
  void WriteKey(const fs::path& p, const char* passphrase = nullptr) const {
    FILE* f = std::fopen(p.c_str(), "w");
    if (passphrase != nullptr) {
      PEM_write_PrivateKey(f, key, EVP_aes_128_cbc(), nullptr, 0, nullptr,
                           const_cast<char*>(passphrase));
    } else {
      PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    }
    std::fclose(f);
  }
};

class TlsContextsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aq-tls-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    files_ = {(dir_ / "cert.pem").string(), (dir_ / "key.pem").string()};
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Install(const TestCert& c) const {
    c.WriteCert(files_.cert_chain);
    c.WriteKey(files_.key);
  }
  void WriteText(const std::string& path, const std::string& text) const {
    std::ofstream(path, std::ios::trunc) << text;
  }

  fs::path dir_;
  TlsFiles files_;
};

std::string Serial(const std::shared_ptr<boost::asio::ssl::context>& ctx) {
  const std::string d = DescribeCertificate(*ctx);
  return d.substr(0, d.find(','));
}

TEST_F(TlsContextsTest, I14_LoadsTheChainAndKeyTls12AndUp) {
  Install(TestCert(1001));  // 0x03E9
  auto tls = TlsContexts::Load(files_);
  ASSERT_TRUE(tls.ok()) << tls.status().message();
  auto ctx = (*tls)->Current();
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(Serial(ctx), "serial 03E9");
  EXPECT_NE(DescribeCertificate(*ctx).find("CN=localhost"), std::string::npos);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
  EXPECT_EQ((*tls)->generation(), 0u);
}

TEST_F(TlsContextsTest, I14_ReloadGivesNewConnectionsTheNewCertificate) {
  Install(TestCert(1001));
  auto tls = TlsContexts::Load(files_);
  ASSERT_TRUE(tls.ok());
  auto before = (*tls)->Current();  // held by an open connection
  Install(TestCert(1002));          // 0x03EA
  ASSERT_TRUE((*tls)->Reload().ok());
  auto after = (*tls)->Current();
  EXPECT_NE(after, before);
  EXPECT_EQ(Serial(after), "serial 03EA");
  EXPECT_EQ(Serial(before), "serial 03E9");  // the old connection keeps its context
  EXPECT_EQ((*tls)->generation(), 1u);
}

TEST_F(TlsContextsTest, I14_AFailedReloadKeepsTheCurrentCertificate) {
  Install(TestCert(1001));
  auto tls = TlsContexts::Load(files_);
  ASSERT_TRUE(tls.ok());
  auto before = (*tls)->Current();
  WriteText(files_.cert_chain, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
  Status st = (*tls)->Reload();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(files_.cert_chain), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("the current certificate stays in use"), std::string::npos);
  EXPECT_EQ((*tls)->Current(), before);
  EXPECT_EQ((*tls)->generation(), 0u);
  // A key of another certificate: refused too, and the old one stays.
  TestCert other(1003);
  TestCert(1004).WriteCert(files_.cert_chain);
  other.WriteKey(files_.key);
  st = (*tls)->Reload();
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.message();
  EXPECT_EQ((*tls)->Current(), before);
}

TEST_F(TlsContextsTest, I14_BadFilesAtStartUpAreRefusedWithTheirName) {
  auto missing = TlsContexts::Load(files_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "cannot read the TLS certificate file " +
                                            files_.cert_chain + ": No such file or directory");
  TestCert c(7);
  c.WriteCert(files_.cert_chain);
  WriteText(files_.key, "");
  auto empty = TlsContexts::Load(files_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "cannot read the TLS key file " + files_.key + ": it is empty");
  WriteText(files_.key, "not a key\n");
  auto garbage = TlsContexts::Load(files_);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("holds no usable unencrypted PEM private key"),
            std::string::npos)
      << garbage.status().message();
}

TEST_F(TlsContextsTest, I14_AnEncryptedKeyIsRefusedWithoutAPrompt) {
  TestCert c(8);
  c.WriteCert(files_.cert_chain);
  c.WriteKey(files_.key, "secret-passphrase");
  auto tls = TlsContexts::Load(files_);  // would block on the terminal without the callback
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find(files_.key), std::string::npos);
}

}  // namespace
}  // namespace aquasense::http

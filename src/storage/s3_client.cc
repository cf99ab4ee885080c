#include "storage/s3_client.h"

#include <chrono>
#include <thread>

#include "common/aws/service_options.h"
#include "common/crypto.h"

namespace aquasense::storage {
namespace {

using aws::SplitEndpoint;

// A 200 answer whose body is an <Error> (S3 does this for CompleteMultipartUpload
// and CopyObject that fail after the headers were sent).
bool ErrorInBody(const aws::HttpResponse& r) {
  if (r.status != 200) return false;
  const size_t at = r.body.find('<', r.body.starts_with("<?xml") ? r.body.find("?>") : 0);
  return at != std::string::npos && std::string_view(r.body).substr(at).starts_with("<Error>");
}

}  // namespace

Result<aws::HttpRequest> S3Client::Build(const S3Call& call) const {
  auto creds = o_.credentials->Get();
  if (!creds.ok()) return creds.status();
  const auto [scheme, authority] = SplitEndpoint(o_.endpoint);
  aws::SignRequest s;
  s.method = call.method;
  if (o_.path_style) {
    s.host = authority;
    s.path = "/" + bucket_ + (call.key.empty() ? "" : aws::UriEncodePath(call.key));
  } else {
    s.host = bucket_ + "." + authority;
    s.path = call.key.empty() ? "/" : aws::UriEncodePath(call.key);
  }
  s.query = call.query;
  s.headers = call.headers;
  s.headers.emplace_back("Content-Type", call.content_type);
  // Over TLS the body is protected in transit: S3 accepts it unhashed,
  // which saves a pass over every byte. Plain http signs its hash.
  s.payload_sha256 = scheme == "https" ? std::string(aws::kUnsignedPayload) : Sha256Hex(call.body);
  aws::HttpRequest req;
  req.method = call.method;
  req.url = scheme + "://" + s.host + s.path;
  if (!call.query.empty()) req.url += "?" + aws::CanonicalQuery(call.query);
  req.headers = aws::Sign(s, *creds, {o_.region, "s3"}, o_.clock->NowMs());
  req.body = call.body;
  return req;
}

Result<aws::HttpResponse> S3Client::Send(const S3Call& call) const {
  for (int attempt = 1;; ++attempt) {
    auto resp = aws::SendWithRetry(
        *o_.http, [&] { return Build(call); }, o_.retry);
    if (!resp.ok() || !ErrorInBody(*resp)) return resp;
    if (attempt >= std::max(1, o_.retry.max_attempts))
      return Unavailable(call.method + " " + Name(call.key) + ": " + aws::AwsErrorCode(*resp));
    const int64_t ms = aws::BackoffMs(o_.retry, attempt);
    if (o_.retry.sleep)
      o_.retry.sleep(ms);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

Result<aws::HttpResponse> S3Client::Call(const S3Call& call) const {
  auto resp = Send(call);
  if (!resp.ok()) return resp;
  AQ_RETURN_IF_ERROR(aws::StatusFromResponse(*resp, call.method + " " + Name(call.key)));
  return resp;
}

Status CreateBucket(const S3Client& s3, const std::string& region) {
  std::string body;
  if (region != "us-east-1") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  auto resp =
      s3.Send({.method = "PUT", .key = "", .body = body, .content_type = "application/xml"});
  if (!resp.ok()) return resp.status();
  const std::string code = aws::AwsErrorCode(*resp);
  if (code == "BucketAlreadyOwnedByYou") return Status::Ok();
  if (code == "BucketAlreadyExists")
    return FailedPrecondition("bucket " + s3.bucket() + " exists and belongs to another account");
  return aws::StatusFromResponse(*resp, "CreateBucket " + s3.bucket());
}

Status PutInboxNotification(const S3Client& s3, const std::string& prefix,
                            const std::string& queue_arn) {
  const std::string body =
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<QueueConfiguration><Id>aquasense-inbox</Id><Queue>" +
      queue_arn +
      "</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>"
      "<Value>" +
      prefix +
      "</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>";
  return s3
      .Call({.method = "PUT",
             .key = "",
             .query = {{"notification", ""}},
             .body = body,
             .content_type = "application/xml"})
      .status();
}

std::string XmlValue(std::string_view xml, std::string_view tag, size_t from, size_t* end) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const size_t a = xml.find(open, from);
  if (a == std::string_view::npos) {
    if (end != nullptr) *end = std::string_view::npos;
    return "";
  }
  const size_t b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) {
    if (end != nullptr) *end = std::string_view::npos;
    return "";
  }
  if (end != nullptr) *end = b + close.size();
  const std::string_view raw = xml.substr(a + open.size(), b - a - open.size());
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (const auto& [name, c] : kEntities) {
      if (raw.substr(i).starts_with(name)) {
        out.push_back(c);
        i += name.size() - 1;
        done = true;
        break;
      }
    }
    if (!done) out.push_back('&');
  }
  return out;
}

std::string UrlDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace aquasense::storage

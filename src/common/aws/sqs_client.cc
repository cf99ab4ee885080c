#include "common/aws/sqs_client.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/crypto.h"

namespace aquasense::aws {
namespace {

using nlohmann::json;

int64_t ToInt(const json& j, std::string_view key) {
  if (!j.contains(key) || !j[key].is_string()) return 0;
  const std::string& s = j[std::string(key)].get_ref<const std::string&>();
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Result<json> ParseAnswer(const std::string& text, std::string_view action) {
  json j = json::parse(text.empty() ? std::string("{}") : text, nullptr, false);
  if (!j.is_object()) return Unavailable("SQS " + std::string(action) + ": answer is not JSON");
  return j;
}

}  // namespace

std::string DeadLetterQueueName(std::string_view name) { return std::string(name) + "-dlq"; }

std::string QueueNameOf(std::string_view name_or_url) {
  if (name_or_url.find("://") == std::string_view::npos) return std::string(name_or_url);
  std::string_view s = name_or_url;
  while (s.ends_with('/')) s.remove_suffix(1);
  return std::string(s.substr(s.rfind('/') + 1));
}

Result<SqsOptions> SqsOptionsFromEnvironment(const Env& env, std::shared_ptr<HttpClient> http) {
  return ServiceOptionsFromEnvironment(env, std::move(http), "sqs");
}

Result<HttpRequest> SqsClient::Build(std::string_view action, const std::string& body) const {
  auto req = SignedJsonPost(o_, "sqs", "AmazonSQS." + std::string(action), body);
  if (!req.ok()) return req;
  // A long poll holds the request up to 20 s before answering.
  req->timeout_ms = 40'000;
  return req;
}

Result<std::string> SqsClient::Call(std::string_view action, const std::string& request) const {
  auto resp = SendWithRetry(
      *o_.http, [&] { return Build(action, request); }, o_.retry);
  if (!resp.ok()) return resp.status();
  const std::string what = "SQS " + std::string(action);
  if (resp->status == 400) {
    // SQS's missing queue is a 400; name it kNotFound as the other stores do.
    const std::string code = AwsErrorCode(*resp);
    const std::string query_code = resp->HeaderValue("x-amzn-query-error");
    if (code == "QueueDoesNotExist" || query_code.starts_with("AWS.SimpleQueueService.NonExistent"))
      return NotFound(what + ": the queue does not exist");
  }
  AQ_RETURN_IF_ERROR(StatusFromResponse(*resp, what));
  return resp->body.empty() ? std::string("{}") : std::move(resp->body);
}

Result<std::string> SqsClient::GetQueueUrl(std::string_view name) const {
  auto text = Call("GetQueueUrl", json{{"QueueName", name}}.dump());
  if (!text.ok()) return text.status();
  auto j = ParseAnswer(*text, "GetQueueUrl");
  if (!j.ok()) return j.status();
  if (!j->contains("QueueUrl")) return Unavailable("SQS GetQueueUrl: no QueueUrl in the answer");
  return (*j)["QueueUrl"].get<std::string>();
}

Result<std::string> SqsClient::ResolveQueue(std::string_view name_or_url) const {
  if (name_or_url.starts_with("http://") || name_or_url.starts_with("https://"))
    return std::string(name_or_url);
  if (name_or_url.empty()) return InvalidArgument("empty queue name");
  return GetQueueUrl(name_or_url);
}

Result<std::string> SqsClient::CreateQueue(
    std::string_view name, const std::map<std::string, std::string>& attributes) const {
  json req = {{"QueueName", name}};
  if (!attributes.empty()) req["Attributes"] = attributes;
  auto text = Call("CreateQueue", req.dump());
  if (!text.ok()) return text.status();
  auto j = ParseAnswer(*text, "CreateQueue");
  if (!j.ok()) return j.status();
  if (!j->contains("QueueUrl")) return Unavailable("SQS CreateQueue: no QueueUrl in the answer");
  return (*j)["QueueUrl"].get<std::string>();
}

Result<std::map<std::string, std::string>> SqsClient::GetQueueAttributes(
    std::string_view url, const std::vector<std::string>& names) const {
  auto text = Call("GetQueueAttributes", json{{"QueueUrl", url}, {"AttributeNames", names}}.dump());
  if (!text.ok()) return text.status();
  auto j = ParseAnswer(*text, "GetQueueAttributes");
  if (!j.ok()) return j.status();
  std::map<std::string, std::string> out;
  if (j->contains("Attributes") && (*j)["Attributes"].is_object())
    for (const auto& [k, v] : (*j)["Attributes"].items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

Status SqsClient::SetQueueAttributes(std::string_view url,
                                     const std::map<std::string, std::string>& attributes) const {
  return Call("SetQueueAttributes", json{{"QueueUrl", url}, {"Attributes", attributes}}.dump())
      .status();
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessage(std::string_view url,
                                                          const ReceiveOptions& o) const {
  json req = {{"QueueUrl", url},
              {"MaxNumberOfMessages", o.max_messages},
              {"WaitTimeSeconds", o.wait_s},
              {"AttributeNames", {"ApproximateReceiveCount", "SentTimestamp"}},
              {"MessageSystemAttributeNames", {"ApproximateReceiveCount", "SentTimestamp"}}};
  if (o.visibility_timeout_s >= 0) req["VisibilityTimeout"] = o.visibility_timeout_s;
  auto text = Call("ReceiveMessage", req.dump());
  if (!text.ok()) return text.status();
  auto j = ParseAnswer(*text, "ReceiveMessage");
  if (!j.ok()) return j.status();
  std::vector<SqsMessage> out;
  if (!j->contains("Messages") || !(*j)["Messages"].is_array()) return out;
  for (const json& m : (*j)["Messages"]) {
    if (!m.is_object() || !m.contains("ReceiptHandle")) continue;
    SqsMessage msg;
    msg.message_id = m.value("MessageId", "");
    msg.receipt_handle = m.value("ReceiptHandle", "");
    msg.body = m.value("Body", "");
    if (m.contains("Attributes") && m["Attributes"].is_object()) {
      msg.receive_count = static_cast<int>(ToInt(m["Attributes"], "ApproximateReceiveCount"));
      msg.sent_ms = ToInt(m["Attributes"], "SentTimestamp");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Status SqsClient::DeleteMessage(std::string_view url, std::string_view receipt_handle) const {
  return Call("DeleteMessage", json{{"QueueUrl", url}, {"ReceiptHandle", receipt_handle}}.dump())
      .status();
}

Status SqsClient::ChangeMessageVisibility(std::string_view url, std::string_view receipt_handle,
                                          int timeout_s) const {
  return Call("ChangeMessageVisibility", json{{"QueueUrl", url},
                                              {"ReceiptHandle", receipt_handle},
                                              {"VisibilityTimeout", timeout_s}}
                                             .dump())
      .status();
}

Result<std::string> SqsClient::SendMessage(std::string_view url, std::string_view body) const {
  auto text = Call("SendMessage", json{{"QueueUrl", url}, {"MessageBody", body}}.dump());
  if (!text.ok()) return text.status();
  auto j = ParseAnswer(*text, "SendMessage");
  if (!j.ok()) return j.status();
  return j->value("MessageId", "");
}

}  // namespace aquasense::aws

// SqsClient: Amazon SQS over the one signer and HTTP client (JSON protocol:
// POST / with X-Amz-Target AmazonSQS.<Action> and application/x-amz-json-1.0,
// which AWS, moto 5 and ElasticMQ speak), with the SDKs' retry policy.
//
//   aws::Env env{aws::ProcessEnv(), http.get(), &clock};
//   auto options = aws::SqsOptionsFromEnvironment(env, http);
//   aws::SqsClient sqs(*options);
//   auto url = sqs.ResolveQueue("aquasense-inbox");     // a name or a URL
//   auto msgs = sqs.ReceiveMessage(*url, {.max_messages = 1, .wait_s = 20});
//   sqs.DeleteMessage(*url, msgs->at(0).receipt_handle);
//
// Thread-safe (stateless besides its options).
// Errors: as StatusFromResponse (http_client.h): kNotFound for a queue that
// does not exist (QueueDoesNotExist, NonExistentQueue), kInvalidArgument for
// a request SQS refuses (an expired receipt handle included:
// ReceiptHandleIsInvalid), kFailedPrecondition for credentials or access,
// kUnavailable (retryable) when throttled or unreachable after the retries.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/aws/service_options.h"
#include "common/clock.h"
#include "common/status.h"

namespace aquasense::aws {

// The SDK's settings are all SQS takes.
using SqsOptions = ServiceOptions;

// ServiceOptionsFromEnvironment(env, http, "sqs").
Result<SqsOptions> SqsOptionsFromEnvironment(const Env& env, std::shared_ptr<HttpClient> http);

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  int receive_count = 0;  // ApproximateReceiveCount, this delivery included
  int64_t sent_ms = 0;    // SentTimestamp
};

struct ReceiveOptions {
  int max_messages = 1;           // 1..10
  int wait_s = 20;                // long poll, 0..20
  int visibility_timeout_s = -1;  // -1: the queue's default
};

// The dead-letter queue of queue `name`, and how many receives send a
// message there (the lead's fixed naming, docs/aws.md).
std::string DeadLetterQueueName(std::string_view name);
inline constexpr int kMaxReceiveCount = 5;

// The queue name of a queue URL (its last path segment); a name is returned as is.
std::string QueueNameOf(std::string_view name_or_url);

class SqsClient {
 public:
  explicit SqsClient(SqsOptions options) : o_(std::move(options)) {}

  // Calls AmazonSQS.<action> with `request` (a JSON object as text) and
  // returns the answer's JSON text ("{}" for an empty answer).
  Result<std::string> Call(std::string_view action, const std::string& request) const;

  Result<std::string> GetQueueUrl(std::string_view name) const;
  // The URL of `name_or_url`: a URL ("http(s)://...") is taken as is.
  Result<std::string> ResolveQueue(std::string_view name_or_url) const;
  // Creates the queue (or returns the URL of an existing one with the same
  // attributes; different attributes are kInvalidArgument, as SQS answers).
  Result<std::string> CreateQueue(std::string_view name,
                                  const std::map<std::string, std::string>& attributes) const;
  Result<std::map<std::string, std::string>> GetQueueAttributes(
      std::string_view url, const std::vector<std::string>& names) const;
  Status SetQueueAttributes(std::string_view url,
                            const std::map<std::string, std::string>& attributes) const;
  Result<std::vector<SqsMessage>> ReceiveMessage(std::string_view url,
                                                 const ReceiveOptions& options) const;
  Status DeleteMessage(std::string_view url, std::string_view receipt_handle) const;
  Status ChangeMessageVisibility(std::string_view url, std::string_view receipt_handle,
                                 int timeout_s) const;
  // Returns the MessageId.
  Result<std::string> SendMessage(std::string_view url, std::string_view body) const;

 private:
  Result<HttpRequest> Build(std::string_view action, const std::string& body) const;

  SqsOptions o_;
};

}  // namespace aquasense::aws

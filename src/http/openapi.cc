// The static OpenAPI 3 description of the HTTP API, served at /openapi.json.
#include "http/handlers.h"

namespace aquasense::http {
namespace {

constexpr const char* kOpenApi = R"json({
"openapi":"3.0.3",
"info":{"title":"AquaSense API","version":"1.0.0","description":"Monthly water-temperature metrics (SPEC §8). All bodies are JSON except /metrics. Errors: {\"error\":code,\"message\":text}."},
"paths":{
"/health":{"get":{"summary":"Liveness and store readability","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Health"}}}},"503":{"description":"the store cannot be read","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
"/temp":{"get":{"summary":"Mean temperature of a sensor-month","parameters":[{"$ref":"#/components/parameters/year"},{"$ref":"#/components/parameters/month"},{"$ref":"#/components/parameters/sensor"}],"responses":{"200":{"description":"found","content":{"application/json":{"schema":{"$ref":"#/components/schemas/MeanTemp"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/sd":{"get":{"summary":"Maximum standard deviation of a sensor-month","parameters":[{"$ref":"#/components/parameters/year"},{"$ref":"#/components/parameters/month"},{"$ref":"#/components/parameters/sensor"}],"responses":{"200":{"description":"found","content":{"application/json":{"schema":{"$ref":"#/components/schemas/MaxSd"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/maxdiff":{"get":{"summary":"Month-over-month change of the maximum temperature","parameters":[{"$ref":"#/components/parameters/year"},{"$ref":"#/components/parameters/month"},{"$ref":"#/components/parameters/sensor"}],"responses":{"200":{"description":"found; null when the previous month has no data","content":{"application/json":{"schema":{"$ref":"#/components/schemas/MaxDiff"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/v1/alerts":{"get":{"summary":"Recent alerts (newest first) with each channel's delivery state, as aquasense alerts --json","parameters":[{"name":"limit","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":1000,"default":50}}],"responses":{"200":{"description":"{\"alerts\":[...]}","content":{"application/json":{"schema":{"type":"object"}}}},"400":{"description":"bad limit","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
"/v1/sensors":{"get":{"summary":"The sensors with data","responses":{"200":{"description":"sorted by id","content":{"application/json":{"schema":{"type":"object","properties":{"sensors":{"type":"array","items":{"$ref":"#/components/schemas/SensorInfo"}}}}}}}}}},
"/v1/sensors/{id}/months":{"get":{"summary":"Full monthly records of a sensor","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$"}},{"name":"from","in":"query","required":false,"schema":{"type":"string","pattern":"^[0-9]{4}-(0[1-9]|1[0-2])$"},"description":"first month, inclusive"},{"name":"to","in":"query","required":false,"schema":{"type":"string","pattern":"^[0-9]{4}-(0[1-9]|1[0-2])$"},"description":"last month, inclusive"}],"responses":{"200":{"description":"ascending by month","content":{"application/json":{"schema":{"type":"object","properties":{"sensor":{"type":"string"},"months":{"type":"array","items":{"$ref":"#/components/schemas/MonthlyRecord"}}}}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/v1/sensors/{id}/readings":{"get":{"summary":"The stored valid readings of a sensor, in date order, streamed (SPEC §10; docs/dashboard.md)","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$"}},{"name":"from","in":"query","required":false,"schema":{"type":"string","format":"date"},"description":"first day, inclusive"},{"name":"to","in":"query","required":false,"schema":{"type":"string","format":"date"},"description":"last day, inclusive"},{"name":"format","in":"query","required":false,"schema":{"type":"string","enum":["csv","json"],"default":"csv"}},{"name":"tail","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":10000},"description":"only the last N readings of the range"},{"name":"points","in":"query","required":false,"schema":{"type":"integer","minimum":1,"maximum":100000},"description":"decimate: lowest and highest reading of N equal time buckets"}],"responses":{"200":{"description":"sensor,date,temperature,sd rows (chunked)","content":{"text/csv":{"schema":{"type":"string"}},"application/json":{"schema":{"type":"array","items":{"type":"object","properties":{"sensor":{"type":"string"},"date":{"type":"string"},"temperature":{"type":"number"},"sd":{"type":"number"}}}}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/v1/files/{sha256}/invalid":{"get":{"summary":"A file's invalid rows with their reasons (its first 256 KiB)","parameters":[{"name":"sha256","in":"path","required":true,"schema":{"type":"string","pattern":"^[0-9a-f]{64}$"}},{"name":"sensor","in":"query","required":true,"schema":{"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$"},"description":"the file's default sensor"}],"responses":{"200":{"description":"source,line,reason,detail,raw","content":{"text/csv":{"schema":{"type":"string"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"404":{"$ref":"#/components/responses/NotFound"}}}},
"/v1/ingest":{"post":{"summary":"Upload one CSV file and ingest it as one batch","security":[{"bearer":[]}],"parameters":[{"$ref":"#/components/parameters/sensor"},{"name":"on_conflict","in":"query","required":false,"schema":{"type":"string","enum":["reject","replace"],"default":"reject"}},{"name":"name","in":"query","required":false,"description":"source name recorded for the file (default upload)","schema":{"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$"}}],"requestBody":{"required":true,"content":{"text/csv":{"schema":{"type":"string"}}}},"responses":{"200":{"description":"the ingest summary (same shape as ingest --json); the data is visible to reads when this is sent","content":{"application/json":{"schema":{"type":"object"}}}},"400":{"$ref":"#/components/responses/BadRequest"},"401":{"description":"no bearer token","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},"403":{"description":"wrong token, or uploads disabled (no token configured)","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},"413":{"description":"body over --max-upload","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},"503":{"description":"the store failed","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}},
"/metrics":{"get":{"summary":"Prometheus metrics","responses":{"200":{"description":"text exposition format 0.0.4","content":{"text/plain":{"schema":{"type":"string"}}}}}}},
"/openapi.json":{"get":{"summary":"This document","responses":{"200":{"description":"OpenAPI 3","content":{"application/json":{"schema":{"type":"object"}}}}}}}
},
"components":{
"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}},
"parameters":{
"year":{"name":"year","in":"query","required":true,"schema":{"type":"string","pattern":"^[0-9]{1,4}$"}},
"month":{"name":"month","in":"query","required":true,"schema":{"type":"string","pattern":"^[0-9]{1,2}$"},"description":"1 to 12"},
"sensor":{"name":"sensor","in":"query","required":false,"schema":{"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$","default":"default"}}},
"responses":{
"BadRequest":{"description":"missing or malformed parameter","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}},
"NotFound":{"description":"no data for that sensor and month, or no such endpoint","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}},
"schemas":{
"Error":{"type":"object","required":["error","message"],"properties":{"error":{"type":"string","enum":["bad_request","unauthorized","forbidden","not_found","method_not_allowed","request_timeout","payload_too_large","header_too_large","internal","unavailable"]},"message":{"type":"string"}}},
"Health":{"type":"object","properties":{"status":{"type":"string"},"generation":{"type":"integer"},"sensors":{"type":"integer"},"records":{"type":"integer"},"snapshot_age_seconds":{"type":"number"}}},
"MeanTemp":{"type":"object","properties":{"sensor":{"type":"string"},"year":{"type":"integer"},"month":{"type":"integer"},"mean_temp":{"type":"number"}}},
"MaxSd":{"type":"object","properties":{"sensor":{"type":"string"},"year":{"type":"integer"},"month":{"type":"integer"},"max_sd":{"type":"number"}}},
"MaxDiff":{"type":"object","properties":{"sensor":{"type":"string"},"year":{"type":"integer"},"month":{"type":"integer"},"max_temp_diff":{"type":"number","nullable":true}}},
"SensorInfo":{"type":"object","properties":{"sensor":{"type":"string"},"months":{"type":"integer"},"from":{"type":"string"},"to":{"type":"string"},"readings":{"type":"integer"}}},
"MonthlyRecord":{"type":"object","properties":{"sensor":{"type":"string"},"year":{"type":"integer"},"month":{"type":"integer"},"mean_temp":{"type":"number"},"max_temp":{"type":"number"},"max_sd":{"type":"number"},"max_temp_diff":{"type":"number","nullable":true},"readings":{"type":"integer"}}}
}}
}
)json";

}  // namespace

const std::string& OpenApiJson() {
  static const std::string kDoc(kOpenApi);
  return kDoc;
}

}  // namespace aquasense::http

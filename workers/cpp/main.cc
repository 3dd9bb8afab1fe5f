// Example Chorus worker in C++: serves the conformance methods of the design brief.
#include <openssl/evp.h>

#include <cstdio>
#include <string>

#include "chorus/worker.h"

namespace {

// Parses ASCII digits; throws a final error naming the method otherwise.
long long ParseCount(const std::string& method, const std::string& payload) {
  if (payload.empty() || payload.size() > 12 || payload.find_first_not_of("0123456789") != std::string::npos) {
    throw chorus::PermanentError(method + ": the payload must be a number in ASCII digits, got \"" + payload.substr(0, 32) + "\"");
  }
  return std::stoll(payload);
}

std::string Sha256Hex(const std::string& data) {
  unsigned char sum[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), sum, &n, EVP_sha256(), nullptr) != 1) {
    throw chorus::RetryableError("sha256: OpenSSL could not compute the digest");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(hex[sum[i] >> 4]);
    out.push_back(hex[sum[i] & 15]);
  }
  return out;
}

}  // namespace

int main() {
  try {
    chorus::Worker worker(chorus::Config::FromEnv());
    worker.Handle("echo", [](chorus::TaskContext& ctx) { return ctx.Output(ctx.payload()); });
    worker.Handle("sha256", [](chorus::TaskContext& ctx) { return ctx.Output(Sha256Hex(ctx.payload())); });
    // The conformance fail is final.
    worker.Handle("fail", [](chorus::TaskContext& ctx) -> chorus::Outputs { throw chorus::PermanentError(ctx.payload()); });
    worker.Handle("sleep", [](chorus::TaskContext& ctx) {
      auto ms = std::chrono::milliseconds(ParseCount("sleep", ctx.payload()));
      if (ctx.WaitCancelled(ms / 2)) ctx.ThrowIfCancelled();
      ctx.Progress(0.5, "half way");
      if (ctx.WaitCancelled(ms - ms / 2)) ctx.ThrowIfCancelled();
      return ctx.Output(ctx.payload());
    });
    // fanout N: N sha256 subtasks on "0".."N-1" and a concat reducer that receives this task's output.
    worker.Handle("fanout", [](chorus::TaskContext& ctx) {
      const long long n = ParseCount("fanout", ctx.payload());
      std::vector<std::string> parts = ctx.NewResults(static_cast<size_t>(n));
      std::vector<chorus::Subtask> subtasks;
      for (long long i = 0; i < n; ++i) {
        subtasks.push_back({"sha256", std::to_string(i), {}, {parts[i]}, {}});
      }
      subtasks.push_back({"concat", "", parts, ctx.expected_output_ids(), {}});
      ctx.Submit(subtasks);
      return chorus::Outputs{};  // the output was handed to the reducer
    });
    worker.Handle("concat", [](chorus::TaskContext& ctx) {
      std::string out;
      for (size_t i = 0; i < ctx.input_count(); ++i) out += ctx.input_at(i);
      return ctx.Output(std::move(out));
    });
    worker.Run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chorus-worker-cpp: %s\n", e.what());
    return 1;
  }
  return 0;
}

#include "common/prometheus_text.h"

#include <fmt/format.h>

#include <algorithm>

namespace rocketrpc::prom {

namespace {

std::string escape(std::string_view value, bool quotes) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void head(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
}

}  // namespace

std::string escapeLabel(std::string_view value) { return escape(value, true); }

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape(help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, int64_t value) {
  head(out, name, labels);
  out += std::to_string(value);
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  head(out, name, labels);
  out += fmt::format("{}", value);
  out += '\n';
}

void Histogram::recordUs(int64_t us) {
  if (us < 0) us = 0;
  const auto slot =
      static_cast<size_t>(std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us) - kBoundsUs.begin());
  buckets_[slot].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  // Buckets are read one by one while others record: the cumulative counts are made monotonic and _count is
  // the +Inf bucket, so a scrape is always a valid histogram even if slightly behind.
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBoundsUs.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    sample(out, bucket, prefix + fmt::format("le=\"{}\"", static_cast<double>(kBoundsUs[i]) / 1e6),
           static_cast<int64_t>(cumulative));
  }
  cumulative += buckets_[kBoundsUs.size()].load(std::memory_order_relaxed);
  sample(out, bucket, prefix + "le=\"+Inf\"", static_cast<int64_t>(cumulative));
  sample(out, std::string(name) + "_sum", labels,
         static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  sample(out, std::string(name) + "_count", labels, static_cast<int64_t>(cumulative));
}

void figures(std::string& out, std::string_view prefix, std::string_view labels, const std::vector<Figure>& list) {
  for (const Figure& f : list) {
    const std::string name = std::string(prefix) + f.metric;
    family(out, name, f.type, f.help);
    sample(out, name, labels, static_cast<int64_t>(f.value));
  }
}

void jsonFigures(std::string& out, const std::vector<Figure>& list) {
  for (const Figure& f : list) out += fmt::format(",\"{}\":{}", f.field, f.value);
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace rocketrpc::prom

// HeaderFields: the custom header (extFields) of a RemotingCommand: string keys to string values, sorted by key
// (bytewise, which for RocketMQ's ASCII names is the order of Java's TreeMap, the order the ACL signature and
// the JSON encoder rely on), stored in one contiguous array. A command carries 0-25 fields: one allocation for
// all of them instead of a tree node per field, and lookups by binary search.
//
// Decoders of untrusted bytes append() in wire order and normalize() once at the end (sort, then the last of
// equal keys wins, as a map's insert_or_assign would): inserting each field at its sorted place would cost time
// quadratic in the number of fields a hostile frame can pack.
// A plain value type (thread-compatible).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rocketrpc::remoting {

class HeaderFields {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  /// The value of `key`, inserted empty when absent.
  std::string& operator[](std::string key) {
    reserveFirst();
    auto it = lowerBound(key);
    if (it != fields_.end() && it->first == key) return it->second;
    return fields_.emplace(it, std::move(key), std::string())->second;
  }
  /// Sets `key` to `value` (inserted or replaced).
  void insert_or_assign(std::string key, std::string value) {  // NOLINT(readability-identifier-naming): map's name
    reserveFirst();
    auto it = lowerBound(key);
    if (it != fields_.end() && it->first == key) {
      it->second = std::move(value);
    } else {
      fields_.emplace(it, std::move(key), std::move(value));
    }
  }
  const_iterator find(std::string_view key) const {
    auto it = lowerBound(key);
    return it != fields_.end() && it->first == key ? it : fields_.end();
  }
  iterator find(std::string_view key) {
    auto it = lowerBound(key);
    return it != fields_.end() && it->first == key ? it : fields_.end();
  }
  size_t count(std::string_view key) const { return find(key) == end() ? 0 : 1; }
  /// Removes `key`; returns how many were removed (0 or 1).
  size_t erase(std::string_view key) {
    auto it = find(key);
    if (it == fields_.end()) return 0;
    fields_.erase(it);
    return 1;
  }

  /// Decoders: adds a field in wire order, in any order; normalize() must follow before any other use.
  void append(std::string key, std::string value) {
    reserveFirst();
    fields_.emplace_back(std::move(key), std::move(value));
  }
  /// Sorts the appended fields; of equal keys the last appended wins.
  void normalize() {
    auto less = [](const value_type& a, const value_type& b) { return a.first < b.first; };
    if (fields_.size() <= kInsertionSortMax) {
      // In place and stable, no buffer: what a real header (0-25 fields, often sorted already) needs.
      for (size_t i = 1; i < fields_.size(); ++i) {
        if (!less(fields_[i], fields_[i - 1])) continue;
        value_type moving = std::move(fields_[i]);
        size_t j = i;
        for (; j > 0 && less(moving, fields_[j - 1]); --j) fields_[j] = std::move(fields_[j - 1]);
        fields_[j] = std::move(moving);
      }
    } else {
      std::stable_sort(fields_.begin(), fields_.end(), less);
    }
    // Keep the last of each run of equal keys.
    size_t out = 0;
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (i + 1 < fields_.size() && fields_[i + 1].first == fields_[i].first) continue;
      if (out != i) fields_[out] = std::move(fields_[i]);
      ++out;
    }
    fields_.resize(out);
  }

  void reserve(size_t n) { fields_.reserve(n); }
  void clear() { fields_.clear(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  iterator begin() { return fields_.begin(); }
  iterator end() { return fields_.end(); }

  friend bool operator==(const HeaderFields& a, const HeaderFields& b) { return a.fields_ == b.fields_; }

 private:
  static constexpr size_t kInsertionSortMax = 32;
  static constexpr size_t kFirstCapacity = 16;  // a send request's header has 13-16 fields

  void reserveFirst() {
    if (fields_.capacity() == 0) fields_.reserve(kFirstCapacity);
  }
  const_iterator lowerBound(std::string_view key) const {
    return std::lower_bound(fields_.begin(), fields_.end(), key,
                            [](const value_type& f, std::string_view k) { return std::string_view(f.first) < k; });
  }
  iterator lowerBound(std::string_view key) {
    return std::lower_bound(fields_.begin(), fields_.end(), key,
                            [](const value_type& f, std::string_view k) { return std::string_view(f.first) < k; });
  }

  std::vector<value_type> fields_;  // sorted by key, keys unique (outside an append()/normalize() pair)
};

}  // namespace rocketrpc::remoting

using System;
using System.Collections.Generic;
using System.Globalization;

namespace Chorus.Worker.Json
{
    /// <summary>The kind of a JSON value.</summary>
    public enum JsonKind { Null, False, True, Number, String, Array, Object }

    /// <summary>
    /// An immutable-by-convention JSON value: null, a boolean, a number (kept as its exact source text so
    /// that 64-bit integers never lose precision), a string, an array, or an object whose members keep
    /// their order (duplicate names are kept; <see cref="Get"/> returns the last one).
    /// </summary>
    public sealed class JsonValue
    {
        public static readonly JsonValue Null = new JsonValue(JsonKind.Null, null);
        public static readonly JsonValue True = new JsonValue(JsonKind.True, null);
        public static readonly JsonValue False = new JsonValue(JsonKind.False, null);

        readonly string text;
        readonly List<JsonValue> items;
        readonly List<KeyValuePair<string, JsonValue>> members;

        public JsonKind Kind { get; private set; }

        JsonValue(JsonKind kind, string text)
        {
            Kind = kind;
            this.text = text;
            if (kind == JsonKind.Array) items = new List<JsonValue>();
            if (kind == JsonKind.Object) members = new List<KeyValuePair<string, JsonValue>>();
        }

        /// <summary>A string value.</summary>
        public static JsonValue String(string s)
        {
            if (s == null) throw new ArgumentNullException("s");
            return new JsonValue(JsonKind.String, s);
        }

        /// <summary>A number value from JSON number text; throws <see cref="JsonException"/> if it is not one.</summary>
        public static JsonValue Number(string jsonNumberText)
        {
            if (!JsonReader.IsNumberText(jsonNumberText))
                throw new JsonException("\"" + jsonNumberText + "\" is not a JSON number");
            return new JsonValue(JsonKind.Number, jsonNumberText);
        }

        public static JsonValue Number(long n) { return new JsonValue(JsonKind.Number, n.ToString(CultureInfo.InvariantCulture)); }

        /// <summary>A number value; NaN and infinities have no JSON form and throw.</summary>
        public static JsonValue Number(double d) { return new JsonValue(JsonKind.Number, JsonWriter.FormatDouble(d)); }

        public static JsonValue Bool(bool b) { return b ? True : False; }

        public static JsonValue NewArray() { return new JsonValue(JsonKind.Array, null); }

        public static JsonValue NewObject() { return new JsonValue(JsonKind.Object, null); }

        internal static JsonValue RawNumber(string text) { return new JsonValue(JsonKind.Number, text); }

        public bool IsNull { get { return Kind == JsonKind.Null; } }

        /// <summary>The string of a String value, or the source text of a Number value.</summary>
        public string Text
        {
            get
            {
                if (Kind != JsonKind.String && Kind != JsonKind.Number)
                    throw new InvalidOperationException("a JSON " + KindName(Kind) + " has no text");
                return text;
            }
        }

        public bool AsBool()
        {
            if (Kind == JsonKind.True) return true;
            if (Kind == JsonKind.False) return false;
            throw new InvalidOperationException("a JSON " + KindName(Kind) + " is not a boolean");
        }

        public double AsDouble()
        {
            if (Kind != JsonKind.Number) throw new InvalidOperationException("a JSON " + KindName(Kind) + " is not a number");
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        /// <summary>The number as a 64-bit integer; false when it has a fraction or is out of range (1e3 and 1.0 are integers).</summary>
        public bool TryGetInt64(out long value)
        {
            value = 0;
            if (Kind != JsonKind.Number) return false;
            return TryParseInteger(text, out value);
        }

        internal static bool TryParseInteger(string s, out long value)
        {
            value = 0;
            if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
            decimal d;
            try
            {
                if (!decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return false;
            }
            catch (OverflowException) { return false; }
            if (d != decimal.Truncate(d) || d < long.MinValue || d > long.MaxValue) return false;
            value = (long)d;
            return true;
        }

        /// <summary>Elements of an Array value.</summary>
        public IList<JsonValue> Items
        {
            get
            {
                if (Kind != JsonKind.Array) throw new InvalidOperationException("a JSON " + KindName(Kind) + " is not an array");
                return items;
            }
        }

        /// <summary>Members of an Object value, in order.</summary>
        public IList<KeyValuePair<string, JsonValue>> Members
        {
            get
            {
                if (Kind != JsonKind.Object) throw new InvalidOperationException("a JSON " + KindName(Kind) + " is not an object");
                return members;
            }
        }

        /// <summary>Appends an element to an Array value and returns this value.</summary>
        public JsonValue Add(JsonValue item)
        {
            if (item == null) throw new ArgumentNullException("item");
            Items.Add(item);
            return this;
        }

        /// <summary>Appends a member to an Object value and returns this value.</summary>
        public JsonValue Add(string name, JsonValue value)
        {
            if (name == null) throw new ArgumentNullException("name");
            if (value == null) throw new ArgumentNullException("value");
            Members.Add(new KeyValuePair<string, JsonValue>(name, value));
            return this;
        }

        /// <summary>The last member called name of an Object value, or null when there is none.</summary>
        public JsonValue Get(string name)
        {
            var m = Members;
            for (int i = m.Count - 1; i >= 0; i--)
                if (m[i].Key == name) return m[i].Value;
            return null;
        }

        /// <summary>Compact JSON text of this value.</summary>
        public override string ToString()
        {
            var w = new JsonWriter();
            w.Value(this);
            return w.ToString();
        }

        /// <summary>Structural equality (numbers compare by text, object members in order).</summary>
        public bool DeepEquals(JsonValue other)
        {
            if (other == null || other.Kind != Kind) return false;
            switch (Kind)
            {
                case JsonKind.Number:
                case JsonKind.String:
                    return text == other.text;
                case JsonKind.Array:
                    if (items.Count != other.items.Count) return false;
                    for (int i = 0; i < items.Count; i++)
                        if (!items[i].DeepEquals(other.items[i])) return false;
                    return true;
                case JsonKind.Object:
                    if (members.Count != other.members.Count) return false;
                    for (int i = 0; i < members.Count; i++)
                        if (members[i].Key != other.members[i].Key || !members[i].Value.DeepEquals(other.members[i].Value)) return false;
                    return true;
                default:
                    return true;
            }
        }

        public static string KindName(JsonKind k)
        {
            switch (k)
            {
                case JsonKind.Null: return "null";
                case JsonKind.False:
                case JsonKind.True: return "boolean";
                case JsonKind.Number: return "number";
                case JsonKind.String: return "string";
                case JsonKind.Array: return "array";
                default: return "object";
            }
        }
    }

    /// <summary>Malformed JSON, or JSON that does not fit the expected shape.</summary>
    public class JsonException : Exception
    {
        public JsonException(string message) : base(message) { }
    }
}

using System;
using System.Globalization;

namespace Chorus.Worker.Protocol
{
    /// <summary>
    /// A google.protobuf.Duration: whole seconds plus nanoseconds of the same sign. Its proto3-JSON form
    /// is a string such as "1.5s", "-0.250s" or "3s".
    /// </summary>
    public struct ProtoDuration : IEquatable<ProtoDuration>
    {
        /// <summary>Largest magnitude of Seconds allowed by google.protobuf.Duration (10,000 years).</summary>
        public const long MaxSeconds = 315576000000L;

        public long Seconds { get; private set; }
        public int Nanos { get; private set; }

        public ProtoDuration(long seconds, int nanos) : this()
        {
            if (seconds < -MaxSeconds || seconds > MaxSeconds)
                throw new ArgumentOutOfRangeException("seconds", "a duration is at most " + MaxSeconds + " seconds");
            if (nanos <= -1000000000 || nanos >= 1000000000)
                throw new ArgumentOutOfRangeException("nanos", "nanos must be within ±999,999,999");
            if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0))
                throw new ArgumentOutOfRangeException("nanos", "seconds and nanos must have the same sign");
            Seconds = seconds;
            Nanos = nanos;
        }

        public static ProtoDuration FromTimeSpan(TimeSpan t)
        {
            long ticks = t.Ticks; // 100 ns each
            return new ProtoDuration(ticks / TimeSpan.TicksPerSecond, (int)(ticks % TimeSpan.TicksPerSecond) * 100);
        }

        /// <summary>The duration as a TimeSpan (rounded toward zero to 100 ns).</summary>
        public TimeSpan ToTimeSpan()
        {
            return new TimeSpan(Seconds * TimeSpan.TicksPerSecond + Nanos / 100);
        }

        /// <summary>The canonical proto3-JSON text: 0, 3, 6 or 9 fractional digits, then "s".</summary>
        public override string ToString()
        {
            string sign = (Seconds < 0 || Nanos < 0) ? "-" : "";
            long s = Math.Abs(Seconds);
            int n = Math.Abs(Nanos);
            string text = sign + s.ToString(CultureInfo.InvariantCulture);
            if (n != 0)
            {
                string frac = n.ToString("D9", CultureInfo.InvariantCulture);
                if (frac.EndsWith("000000", StringComparison.Ordinal)) frac = frac.Substring(0, 3);
                else if (frac.EndsWith("000", StringComparison.Ordinal)) frac = frac.Substring(0, 6);
                text += "." + frac;
            }
            return text + "s";
        }

        /// <summary>Parses the proto3-JSON text of a duration ("1.5s", "-3s", "0.000000001s").</summary>
        public static bool TryParse(string text, out ProtoDuration d)
        {
            d = default(ProtoDuration);
            if (text == null || text.Length < 2 || text[text.Length - 1] != 's') return false;
            int i = 0, end = text.Length - 1;
            bool neg = false;
            if (text[0] == '-') { neg = true; i++; }
            int intStart = i;
            long secs = 0;
            while (i < end && text[i] >= '0' && text[i] <= '9')
            {
                if (secs > MaxSeconds) return false;
                secs = secs * 10 + (text[i] - '0');
                i++;
            }
            if (i == intStart) return false;
            int nanos = 0;
            if (i < end && text[i] == '.')
            {
                i++;
                int digits = 0;
                while (i < end && text[i] >= '0' && text[i] <= '9')
                {
                    if (++digits > 9) return false;
                    nanos = nanos * 10 + (text[i] - '0');
                    i++;
                }
                if (digits == 0) return false;
                for (int k = digits; k < 9; k++) nanos *= 10;
            }
            if (i != end || secs > MaxSeconds) return false;
            d = new ProtoDuration(neg ? -secs : secs, neg ? -nanos : nanos);
            return true;
        }

        public bool Equals(ProtoDuration other) { return Seconds == other.Seconds && Nanos == other.Nanos; }

        public override bool Equals(object obj) { return obj is ProtoDuration && Equals((ProtoDuration)obj); }

        public override int GetHashCode() { return Seconds.GetHashCode() * 31 + Nanos; }
    }
}

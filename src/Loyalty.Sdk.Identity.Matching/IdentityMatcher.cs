using System.Collections.Immutable;
using Loyalty.Sdk.Identity.Matching.Blocking;
using Loyalty.Sdk.Identity.Matching.Clustering;
using Loyalty.Sdk.Identity.Matching.Comparison;
using Loyalty.Sdk.Identity.Matching.Model;

namespace Loyalty.Sdk.Identity.Matching;

/// <summary>
/// Probabilistic record linkage with a Fellegi–Sunter model trained without labels: blocking produces candidate
/// pairs, each field is compared into a level, EM learns m, u and λ, pairs are scored and explained, the policy
/// decides, and auto-merge pairs are clustered under a size guard. Instances are immutable and thread-safe.
/// </summary>
public sealed class IdentityMatcher
{
    /// <summary>Creates a matcher.</summary>
    /// <param name="settings">The settings; null uses <see cref="MatcherSettings.Default"/>.</param>
    public IdentityMatcher(MatcherSettings? settings = null)
    {
        Settings = settings ?? MatcherSettings.Default;
        Settings.Validate();
    }

    /// <summary>The settings.</summary>
    public MatcherSettings Settings { get; }

    /// <summary>Finds duplicates within one record set: trains the model by EM, then scores and clusters.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The result.</returns>
    public MatchResult Deduplicate(RecordSet records, CancellationToken cancellationToken = default)
        => Run(records, null, null, cancellationToken);

    /// <summary>Finds duplicates within one record set with an already trained model (no EM).</summary>
    /// <param name="records">The records.</param>
    /// <param name="model">A model trained on data with the same schema.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The result.</returns>
    public MatchResult Deduplicate(RecordSet records, FellegiSunterModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(records, null, model, cancellationToken);
    }

    /// <summary>Links two record sets (pairs always join a left record to a right record).</summary>
    /// <param name="left">The left records.</param>
    /// <param name="right">The right records, with the same field names and kinds.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The result.</returns>
    public MatchResult Link(RecordSet left, RecordSet right, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(right);
        return Run(left, right, null, cancellationToken);
    }

    /// <summary>Links two record sets with an already trained model (no EM).</summary>
    /// <param name="left">The left records.</param>
    /// <param name="right">The right records.</param>
    /// <param name="model">A model trained on data with the same schema.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The result.</returns>
    public MatchResult Link(RecordSet left, RecordSet right, FellegiSunterModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(model);
        return Run(left, right, model, cancellationToken);
    }

    private MatchResult Run(RecordSet left, RecordSet? right, FellegiSunterModel? model, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(left);
        if (right is not null)
        {
            CheckSameSchema(left.Schema, right.Schema);
            var leftIds = new HashSet<string>(left.Records.Select(r => r.Id), StringComparer.Ordinal);
            var clash = right.Records.FirstOrDefault(r => leftIds.Contains(r.Id));
            if (clash is not null)
            {
                throw new ArgumentException($"Record id '{clash.Id}' is in both sets; ids must be unique across linked sets.", nameof(right));
            }
        }

        var engine = new Engine(Settings, left.Schema, FieldNormalizer.Prepare(left, right, Settings.DefaultPhoneRegion, ct));
        var rules = Settings.BlockingRules.IsDefaultOrEmpty ? BlockingRule.DefaultsFor(left.Schema) : Settings.BlockingRules;
        var (candidates, blocking) = Blocker.Generate(left.Schema, engine.Records, rules, Settings.MaxBlockSize, ct);
        var patterns = engine.ComparePairs(candidates, ct);
        if (model is null)
        {
            var training = patterns;
            if (Settings.MaskBlockingFieldsInTraining)
            {
                // EM learns nothing from agreement that blocking imposed: those fields count as missing in training.
                var masks = Blocker.BlockingFieldMasks(left.Schema, engine.Records, rules, candidates);
                training = new ulong[patterns.Length];
                for (var k = 0; k < patterns.Length; k++)
                {
                    training[k] = Engine.Mask(patterns[k], masks[k], left.Schema.Fields.Length);
                }
            }

            model = engine.Train(training, ct);
        }

        engine.UseModel(model);
        var pairs = engine.Score(candidates, patterns, ct);
        var clustering = ClusterBuilder.Build(
            pairs.Where(p => p.Decision == MatchDecision.AutoMerge),
            Settings.MaxClusterSize);
        return new MatchResult(engine, candidates, model, blocking, pairs, clustering, right is not null);
    }

    private static void CheckSameSchema(RecordSchema left, RecordSchema right)
    {
        if (left.Fields.Length != right.Fields.Length
            || left.Fields.Zip(right.Fields).Any(p => !string.Equals(p.First.Name, p.Second.Name, StringComparison.OrdinalIgnoreCase) || p.First.Kind != p.Second.Kind))
        {
            throw new ArgumentException("Linked record sets must have the same fields (names and kinds, in the same order).", nameof(right));
        }
    }

    /// <summary>The prepared data and scoring tables of one run.</summary>
    internal sealed class Engine
    {
        private const int BitsPerField = 4;
        private const ulong NullCode = 0xF;
        private readonly MatcherSettings _settings;
        private readonly RecordSchema _schema;
        private readonly FieldComparer[] _comparers;
        private readonly Dictionary<string, int> _indexById;
        private double[][] _weights = [];
        private double _priorWeight;

        public Engine(MatcherSettings settings, RecordSchema schema, PreparedRecords records)
        {
            if (schema.Fields.Length > 64 / BitsPerField)
            {
                throw new NotSupportedException($"At most {64 / BitsPerField} compared fields are supported; the schema has {schema.Fields.Length}.");
            }

            _settings = settings;
            _schema = schema;
            Records = records;
            _comparers = FieldComparer.Create(schema, records, settings.Comparison);
            foreach (var comparer in _comparers)
            {
                if (comparer.LevelCount >= (int)NullCode)
                {
                    throw new NotSupportedException($"Field '{comparer.Name}' has too many comparison levels.");
                }

                if (settings.TermFrequencyKinds.Contains(comparer.Kind))
                {
                    comparer.Field.TermFrequencyBits = TermFrequencies.Compute(comparer.Field.Text);
                }
            }

            _indexById = new Dictionary<string, int>(records.Count, StringComparer.Ordinal);
            for (var i = 0; i < records.Count; i++)
            {
                _indexById[records.Ids[i]] = i;
            }
        }

        public PreparedRecords Records { get; }

        /// <summary>The comparison vector with the fields of <paramref name="fieldMask"/> set to missing.</summary>
        public static ulong Mask(ulong key, ulong fieldMask, int fields)
        {
            for (var f = 0; f < fields; f++)
            {
                if ((fieldMask & (1UL << f)) != 0)
                {
                    key |= NullCode << (f * BitsPerField);
                }
            }

            return key;
        }

        public ulong Compare(int i, int j)
        {
            ulong key = 0;
            for (var f = 0; f < _comparers.Length; f++)
            {
                var level = _comparers[f].Compare(i, j);
                key |= (level < 0 ? NullCode : (ulong)level) << (f * BitsPerField);
            }

            return key;
        }

        public ulong[] ComparePairs(long[] candidates, CancellationToken ct)
        {
            var result = new ulong[candidates.Length];
            var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = _settings.MaxDegreeOfParallelism };
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, candidates.Length, 16_384), options, range =>
            {
                for (var k = range.Item1; k < range.Item2; k++)
                {
                    var (i, j) = Blocker.Unpack(candidates[k]);
                    result[k] = Compare(i, j);
                }
            });
            return result;
        }

        public FellegiSunterModel Train(ulong[] keys, CancellationToken ct)
        {
            var fields = _comparers.Length;
            var levelCounts = _comparers.Select(c => c.LevelCount).ToArray();

            // u starts from random pairs (nearly all non-matches).
            var u = levelCounts.Select(l => new double[l]).ToArray();
            var random = new Random(_settings.Seed);
            var uCounts = levelCounts.Select(l => new double[l]).ToArray();
            var sample = Records.Count < 2 ? 0 : _settings.RandomPairSampleSize;
            for (var s = 0; s < sample; s++)
            {
                int i, j;
                if (Records.IsLink)
                {
                    i = random.Next(Records.LeftCount);
                    j = random.Next(Records.LeftCount, Records.Count);
                }
                else
                {
                    i = random.Next(Records.Count);
                    j = random.Next(Records.Count - 1);
                    if (j >= i)
                    {
                        j++;
                    }
                }

                for (var f = 0; f < fields; f++)
                {
                    var level = _comparers[f].Compare(i, j);
                    if (level >= 0)
                    {
                        uCounts[f][level]++;
                    }
                }
            }

            for (var f = 0; f < fields; f++)
            {
                // A pseudo-count per level keeps unseen levels finite.
                for (var l = 0; l < levelCounts[f]; l++)
                {
                    uCounts[f][l] += 1;
                }

                ExpectationMaximisation.Normalise(uCounts[f], u[f]);
            }

            // m starts strongly concentrated on the top levels.
            var m = levelCounts.Select(l =>
            {
                var values = new double[l];
                for (var k = 0; k < l; k++)
                {
                    values[k] = Math.Pow(0.25, k);
                }

                var sum = values.Sum();
                return values.Select(v => v / sum).ToArray();
            }).ToArray();

            // Aggregate identical comparison vectors; sorted so that sums are deterministic.
            var counts = new Dictionary<ulong, long>();
            foreach (var key in keys)
            {
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }

            var ordered = counts.OrderBy(kv => kv.Key).ToArray();
            var patterns = ordered.Select(kv => Decode(kv.Key)).ToArray();
            var patternCounts = ordered.Select(kv => kv.Value).ToArray();
            var lambda = 0.1;
            var iterations = 0;
            var converged = true;
            if (keys.Length > 0)
            {
                (lambda, iterations, converged) = ExpectationMaximisation.Run(
                    patterns, patternCounts, levelCounts, m, u, lambda, _settings.FixUFromRandomPairs,
                    _settings.MaxEmIterations, _settings.EmTolerance, ct, _settings.MPriorPairs);
            }

            var fieldModels = _comparers.Select((c, f) => new FieldModel(
                c.Name,
                c.Kind,
                [.. c.Levels.Select((name, l) => new ComparisonLevelParameters(name, m[f][l], u[f][l]))],
                c.Field.TermFrequencyBits is not null)).ToImmutableArray();
            return new FellegiSunterModel(lambda, fieldModels, iterations, converged, keys.LongLength);
        }

        public void UseModel(FellegiSunterModel model)
        {
            if (model.Fields.Length != _comparers.Length
                || model.Fields.Zip(_comparers).Any(p => !string.Equals(p.First.Field, p.Second.Name, StringComparison.OrdinalIgnoreCase)
                    || p.First.Levels.Length != p.Second.LevelCount))
            {
                throw new ArgumentException("The model's fields and levels do not match the records' schema.", nameof(model));
            }

            _priorWeight = model.PriorWeight;
            _weights = [.. model.Fields.Select(f => f.Levels.Select(l => l.Weight).ToArray())];
        }

        public ImmutableArray<ScoredPair> Score(long[] candidates, ulong[] keys, CancellationToken ct)
        {
            var weights = new double[candidates.Length];
            var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = _settings.MaxDegreeOfParallelism };
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, candidates.Length, 16_384), options, range =>
            {
                for (var k = range.Item1; k < range.Item2; k++)
                {
                    var (i, _) = Blocker.Unpack(candidates[k]);
                    weights[k] = Weight(i, keys[k]);
                }
            });

            var minimumWeight = _settings.MinimumReportedProbability <= 0
                ? double.NegativeInfinity
                : FellegiSunterModel.ToWeight(_settings.MinimumReportedProbability);
            var pairs = new List<ScoredPair>();
            for (var k = 0; k < candidates.Length; k++)
            {
                if (weights[k] < minimumWeight)
                {
                    continue;
                }

                var (i, j) = Blocker.Unpack(candidates[k]);
                var (leftId, rightId) = Orient(i, j);
                var probability = FellegiSunterModel.ToProbability(weights[k]);
                pairs.Add(new ScoredPair(leftId, rightId, weights[k], probability, _settings.Policy.Decide(probability)));
            }

            pairs.Sort(static (a, b) =>
            {
                var c = b.MatchWeight.CompareTo(a.MatchWeight);
                if (c == 0)
                {
                    c = string.CompareOrdinal(a.LeftId, b.LeftId);
                }

                return c != 0 ? c : string.CompareOrdinal(a.RightId, b.RightId);
            });
            return [.. pairs];
        }

        public MatchExplanation Explain(string leftId, string rightId)
        {
            if (!_indexById.TryGetValue(leftId, out var i))
            {
                throw new KeyNotFoundException($"Unknown record id '{leftId}'.");
            }

            if (!_indexById.TryGetValue(rightId, out var j))
            {
                throw new KeyNotFoundException($"Unknown record id '{rightId}'.");
            }

            var key = Compare(i, j);
            var contributions = ImmutableArray.CreateBuilder<FieldContribution>(_comparers.Length);
            var total = _priorWeight;
            for (var f = 0; f < _comparers.Length; f++)
            {
                var comparer = _comparers[f];
                var level = LevelOf(key, f);
                double levelWeight = 0, tf = 0;
                if (level >= 0)
                {
                    levelWeight = _weights[f][level];
                    tf = level == 0 && comparer.Field.TermFrequencyBits is { } bits ? bits[i] : 0;
                }

                total += levelWeight + tf;
                contributions.Add(new FieldContribution(
                    comparer.Name,
                    comparer.Kind,
                    level,
                    level >= 0 ? comparer.Levels[level] : "null",
                    comparer.Field.Text[i],
                    comparer.Field.Text[j],
                    levelWeight,
                    tf));
            }

            return new MatchExplanation(leftId, rightId, _priorWeight, contributions.MoveToImmutable(), total, FellegiSunterModel.ToProbability(total));
        }

        private (string Left, string Right) Orient(int i, int j)
        {
            var a = Records.Ids[i];
            var b = Records.Ids[j];
            if (Records.IsLink)
            {
                return i < Records.LeftCount ? (a, b) : (b, a);
            }

            return string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);
        }

        private double Weight(int i, ulong key)
        {
            var weight = _priorWeight;
            for (var f = 0; f < _comparers.Length; f++)
            {
                var level = LevelOf(key, f);
                if (level < 0)
                {
                    continue;
                }

                double tf = level == 0 && _comparers[f].Field.TermFrequencyBits is { } bits ? bits[i] : 0;
                weight += _weights[f][level] + tf;
            }

            return weight;
        }

        private static int LevelOf(ulong key, int field)
        {
            var code = (key >> (field * BitsPerField)) & NullCode;
            return code == NullCode ? -1 : (int)code;
        }

        private sbyte[] Decode(ulong key)
        {
            var result = new sbyte[_comparers.Length];
            for (var f = 0; f < result.Length; f++)
            {
                result[f] = (sbyte)LevelOf(key, f);
            }

            return result;
        }
    }
}

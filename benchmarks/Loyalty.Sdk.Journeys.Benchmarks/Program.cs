using Loyalty.Sdk.Journeys.Benchmarks;

// `dotnet run -c Release` runs 200,000 events through journey evaluation (20 active journeys) 7 times and prints the
// median rate; the target is at least 200,000 events/s.
var bench = new JourneyStageBenchmark();
await bench.SetupAsync();
await bench.RunAsync(); // warm-up
var rates = new List<double>();
for (var round = 0; round < 7; round++)
{
    rates.Add(await bench.RunAsync(seed: round + 2));
}

Console.WriteLine($"journey evaluation, 20 journeys, 10,000 customers: median {rates.Order().ElementAt(3):N0} events/s (min {rates.Min():N0}, max {rates.Max():N0})");

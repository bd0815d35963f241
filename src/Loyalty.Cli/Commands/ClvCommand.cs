using System.CommandLine;
using Loyalty.Sdk.Predictive;
using Loyalty.Sdk.Predictive.Cli;
using NodaTime.Text;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty clv</c>: BG/NBD + Gamma-Gamma customer lifetime value from summaries or transactions.</summary>
internal static class ClvCommand
{
    public static Command Create()
    {
        var summary = new Option<FileInfo?>("--summary") { Description = "CSV with ID,frequency,recency,T[,monetary] or ID,x,t_x,T,zbar." };
        var transactions = new Option<FileInfo?>("--transactions") { Description = "CSV of transactions (one row per purchase)." };
        var customerCol = new Option<string?>("--customer-col") { Description = "Customer id column of --transactions." };
        var dateCol = new Option<string?>("--date-col") { Description = "Date column of --transactions (yyyy-MM-dd or yyyyMMdd)." };
        var amountCol = new Option<string?>("--amount-col") { Description = "Amount column of --transactions (optional: without it no spend model)." };
        var calibrationEnd = new Option<string?>("--calibration-end") { Description = "Last day of the calibration period (yyyy-MM-dd)." };
        var timeUnit = new Option<string>("--time-unit") { Description = "days, weeks, months (30 days) or years.", DefaultValueFactory = _ => "weeks" };
        var horizon = new Option<int?>("--horizon") { Description = "Horizon in time units (default: one year)." };
        var discount = new Option<double?>("--discount-rate") { Description = "Discount rate per time unit (default: 1% a month)." };
        var output = new Option<FileInfo?>("--out") { Description = "Write the JSON here instead of stdout." };
        var command = new Command("clv", "Fit BG/NBD and Gamma-Gamma and print each customer's probability alive, expected purchases, expected spend and CLV as JSON.")
        {
            summary, transactions, customerCol, dateCol, amountCol, calibrationEnd, timeUnit, horizon, discount, output,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var end = parse.GetValue(calibrationEnd);
            NodaTime.LocalDate? endDate = null;
            if (end is not null)
            {
                var parsed = LocalDatePattern.Iso.Parse(end);
                endDate = parsed.Success ? parsed.Value : throw new CliException($"--calibration-end '{end}' is not a date (yyyy-MM-dd).");
            }

            TimeUnit unit;
            try
            {
                unit = TimeUnit.Parse(parse.GetValue(timeUnit)!);
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }

            var options = new ClvOptions
            {
                SummaryPath = parse.GetValue(summary)?.FullName,
                TransactionsPath = parse.GetValue(transactions)?.FullName,
                CustomerColumn = parse.GetValue(customerCol),
                DateColumn = parse.GetValue(dateCol),
                AmountColumn = parse.GetValue(amountCol),
                CalibrationEnd = endDate,
                TimeUnit = unit,
                Horizon = parse.GetValue(horizon),
                DiscountRate = parse.GetValue(discount),
            };
            try
            {
                if (parse.GetValue(output) is { } file)
                {
                    await using var writer = new StreamWriter(file.FullName);
                    ClvCommandRunner.Run(options, writer, ct);
                }
                else
                {
                    ClvCommandRunner.Run(options, Console.Out, ct);
                    await Console.Out.FlushAsync(ct);
                }
            }
            catch (PredictiveInputException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 1;
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message);
            }

            return 0;
        }));
        return command;
    }
}

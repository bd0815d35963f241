using System.CommandLine;
using Loyalty.Sdk.Rules;
using Loyalty.Sdk.Segments;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty rules check "RULE"</c> or <c>--file rule.txt</c>.</summary>
internal static class RulesCommand
{
    public static Command Create()
    {
        var rule = new Argument<string?>("rule") { Description = "The rule text.", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--file") { Description = "Read the rule from a file." };
        var program = new Option<FileInfo?>("--program") { Description = "Program definition (JSON) whose traits, events and segments the rule may use; default: the retail program." };
        var check = new Command("check", "Check a rule: prints 'line:column: message' for each problem (exit code 1), or the normalized rule and its inputs (exit code 0).") { rule, file, program };
        check.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var text = parse.GetValue(rule);
            if (parse.GetValue(file) is { } f)
            {
                if (!f.Exists)
                {
                    throw new CliException($"Rule file '{f.FullName}' does not exist.");
                }

                text = await File.ReadAllTextAsync(f.FullName, ct).ConfigureAwait(false);
            }

            if (text is null)
            {
                throw new CliException("Give the rule as an argument or with --file.");
            }

            var definition = await CommandRunner.LoadProgramAsync(parse.GetValue(program), ct).ConfigureAwait(false);
            var schema = BuiltInTraits.CreateSchema(definition);
            var result = RuleCompiler.Check(text, schema);
            if (result.Rule is not { } compiled)
            {
                foreach (var error in result.Errors)
                {
                    await Console.Error.WriteLineAsync(error.ToString()).ConfigureAwait(false);
                }

                return 1;
            }

            var inputs = compiled.Inputs;
            Console.WriteLine(compiled.Text);
            Console.WriteLine($"traits: {Join(inputs.Traits)}");
            Console.WriteLine($"events: {Join(inputs.Sources)}");
            Console.WriteLine($"windows: {Join(inputs.Windows)}");
            Console.WriteLine($"segments: {Join(inputs.Segments)}");
            Console.WriteLine($"functions: {Join(inputs.Functions)}");
            Console.WriteLine($"time-dependent: {(inputs.TimeDependent ? "yes" : "no")}");
            return 0;
        }));
        return new Command("rules", "Work with rules (segments, conditions).") { check };
    }

    private static string Join(IReadOnlyList<string> items) => items.Count == 0 ? "-" : string.Join(", ", items);
}

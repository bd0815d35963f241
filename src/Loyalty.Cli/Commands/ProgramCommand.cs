using System.CommandLine;
using Loyalty.Sdk.Programs;

namespace Loyalty.Cli.Commands;

/// <summary><c>loyalty program check FILE</c>.</summary>
internal static class ProgramCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The program definition (JSON)." };
        var check = new Command("check", "Validate a program definition; every problem is listed with its path. Exit code 1 when invalid.") { file };
        check.SetAction((parse, ct) => CommandRunner.RunAsync(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"Program file '{path.FullName}' does not exist.");
            }

            var (program, errors) = ProgramLoader.TryParse(await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false));
            if (program is null)
            {
                foreach (var error in errors)
                {
                    await Console.Error.WriteLineAsync($"{path.Name}:{error}").ConfigureAwait(false);
                }

                await Console.Error.WriteLineAsync($"{errors.Count} problem(s) found.").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"{path.Name}: OK — program '{program.Id}' version {program.Version}, base currency {program.BaseCurrency}, " +
                $"{program.CustomEvents.Count} custom event(s), {program.CustomIdentifierTypes.Count} custom identifier type(s).");
            return 0;
        }));
        var command = new Command("program", "Work with program definitions.") { check };
        return command;
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Loyalty.Sdk.Simulation;

/// <summary>Renders <c>report.json</c> as one self-contained HTML page with inline SVG charts, for marketers.</summary>
public static class HtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#2f6fdf", "#19a974", "#ff8c42", "#a463f2", "#e7040f", "#00a3bf", "#ffb700", "#777777"];

    /// <summary>Renders the page.</summary>
    public static string Render(JsonObject report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var k = report["kpis"]!.AsObject();
        var id = report["identity"]!.AsObject();
        var currency = report["program"]?["baseCurrency"]?.GetValue<string>() ?? "";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<title>Loyalty report</title><style>")
            .Append("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7fb;color:#1d2433}")
            .Append("header{background:#1d2433;color:#fff;padding:24px 32px}header h1{margin:0;font-size:24px}header p{margin:4px 0 0;opacity:.75}")
            .Append("main{padding:24px 32px;max-width:1200px;margin:auto}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}")
            .Append(".card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}.card b{display:block;font-size:24px;margin-top:4px}.card span{font-size:12px;color:#667;text-transform:uppercase;letter-spacing:.04em}")
            .Append("section{background:#fff;border-radius:10px;padding:16px 20px;margin-top:18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}section h2{margin:0 0 4px;font-size:18px}section p.note{color:#667;margin:0 0 10px;font-size:14px}")
            .Append(".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px}svg text{font-size:11px;fill:#445}.muted{color:#889;font-style:italic}")
            .Append("</style></head><body>");
        html.Append(CultureInfo.InvariantCulture, $"<header><h1>Loyalty report — {E(report["program"]?["id"]?.ToString())}</h1><p>{E(report["source"]?.ToString())} · tenant {E(report["tenant"]?.ToString())}</p></header><main>");

        html.Append("<div class=\"cards\">");
        Card(html, "Customers", N(k["customers"]));
        Card(html, "Orders", N(k["orders"]));
        Card(html, "Net revenue", $"{N(k["netRevenue"])} {currency}");
        Card(html, "Average order", $"{N(k["averageOrderValue"])} {currency}");
        Card(html, "Repeat buyers", P(k["repeatPurchaseRate"]));
        Card(html, "Return rate", P(k["returnRate"]));
        html.Append("</div>");

        html.Append("<section><h2>Revenue and orders by month</h2><p class=\"note\">Net of discounts, before returns, in the program's base currency.</p>");
        var monthly = k["monthly"]!.AsArray();
        var months = monthly.Select(m => m!["month"]!.GetValue<string>()).ToArray();
        html.Append(BarChart(months, monthly.Select(m => D(m!["revenue"])).ToArray(), Palette[0], currency));
        html.Append(LineChart(months, [("Orders", monthly.Select(m => D(m!["orders"])).ToArray()), ("Active buyers", monthly.Select(m => D(m!["activeBuyers"])).ToArray())]));
        html.Append("</section>");

        html.Append("<div class=\"grid\"><section><h2>Orders by channel</h2>");
        var channels = k["ordersByChannel"]!.AsObject();
        html.Append(HorizontalBars(channels.Select(c => (c.Key, D(c.Value))).ToArray(), ""));
        html.Append("</section><section><h2>Revenue by category</h2>");
        var categories = k["revenueByCategory"]!.AsObject();
        html.Append(HorizontalBars(categories.Select(c => (c.Key, D(c.Value))).ToArray(), currency));
        html.Append("</section></div>");

        html.Append("<section><h2>Order values</h2><p class=\"note\">How many orders fall in each basket size.</p>");
        var hist = k["orderValueHistogram"]!.AsArray();
        html.Append(BarChart(hist.Select(h => h!["to"] is null ? $"{N(h["from"])}+" : $"{N(h!["from"])}–{N(h["to"])}").ToArray(), hist.Select(h => D(h!["orders"])).ToArray(), Palette[2], ""));
        html.Append("</section>");

        html.Append("<section><h2>Identity: one customer across channels</h2>");
        if (id["truePeople"] is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{N(id["truePeople"])} real people became {N(id["customersResolved"])} customer profiles. Pairwise precision {P(id["pairwisePrecision"])}, recall {P(id["pairwiseRecall"])}: {N(id["peopleSplitAcrossCustomers"])} people are still split across several profiles and {N(id["customersJoiningSeveralPeople"])} profiles join several people (for example a shared household phone).</p>");
            html.Append(HorizontalBars(
                [("Real people", D(id["truePeople"])), ("Customer profiles", D(id["customersResolved"])), ("People split", D(id["peopleSplitAcrossCustomers"])), ("Profiles joining people", D(id["customersJoiningSeveralPeople"])), ("Merges", D(id["merges"]))], ""));
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{N(id["customersResolved"])} customer profiles, {N(id["merges"])} merges, {N(id["identifiersPerCustomer"])} identifiers per customer.</p>");
        }

        html.Append("</section>");
        if (report["ledger"] is JsonObject ledger && ledger["available"]?.GetValue<bool>() == true)
        {
            Ledger(html, ledger, currency);
        }

        if (report["predictive"] is JsonObject predictive && predictive["available"]?.GetValue<bool>() == true)
        {
            html.Append("<section><h2>Predicted value and churn</h2>");
            if (predictive["churnAuc"] is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">The probability that a customer is still active separates people who really stopped buying from those who did not with an AUC of {N(predictive["churnAuc"])}, {N(predictive["churnAucRepeatBuyers"])} among repeat buyers (mean P(alive) {N(predictive["meanPAliveChurned"])} for those who stopped, {N(predictive["meanPAliveActive"])} for the others).</p>");
            }

            if (predictive["holdout"] is JsonObject holdout)
            {
                html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Fitted on the history up to {E(holdout["calibrationEnd"]?.ToString())}, the model predicted {N(holdout["predictedPurchases"])} purchases in the next {N(holdout["weeks"])} weeks; customers made {N(holdout["actualPurchases"])} ({N(holdout["errorPercent"])}%). Mean purchases per customer by past frequency:</p>");
                var buckets = holdout["byFrequency"]!.AsArray();
                var labels = buckets.Select(b => $"{b!["frequency"]} repeat").ToArray();
                html.Append(LineChart(labels, [("Actual", buckets.Select(b => D(b!["actualMean"])).ToArray()), ("Predicted", buckets.Select(b => D(b!["predictedMean"])).ToArray())]));
            }

            html.Append("</section>");
        }

        if (report["consent"] is JsonObject consent && consent["available"]?.GetValue<bool>() == true)
        {
            Consent(html, consent);
        }

        if (report["segments"] is JsonObject seg && seg["available"]?.GetValue<bool>() == true)
        {
            Segments(html, seg);
        }

        if (report["journeys"] is JsonObject journeys && journeys["available"]?.GetValue<bool>() == true)
        {
            Journeys(html, journeys);
        }

        foreach (var (key, title) in new[] { ("ledger", "Points ledger"), ("segments", "Segments"), ("consent", "Consent and contact pressure"), ("journeys", "Journeys"), ("predictive", "Predicted value and churn") })
        {
            if (report[key] is JsonObject section && section["available"]?.GetValue<bool>() == false)
            {
                html.Append(CultureInfo.InvariantCulture, $"<section><h2>{title}</h2><p class=\"muted\">{E(section["reason"]?.ToString())}</p></section>");
            }
        }

        html.Append("</main></body></html>");
        return html.ToString();
    }

    private static void Ledger(StringBuilder html, JsonObject l, string currency)
    {
        html.Append("<section><h2>Points ledger</h2>");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Issued − redeemed − expired − reversed ± adjusted = outstanding: {N(l["issued"])} − {N(l["redeemed"])} − {N(l["expired"])} − {N(l["reversed"])} + {N(l["adjusted"])} = {N(l["outstanding"])} {E(l["currency"]?.ToString())} ({(l["reconciles"]?.GetValue<bool>() == true ? "reconciled against the journal" : "NOT reconciled")}).</p>");
        html.Append("<div class=\"cards\">");
        Card(html, "Issued", N(l["issued"]));
        Card(html, "Redeemed", N(l["redeemed"]));
        Card(html, "Expired", N(l["expired"]));
        Card(html, "Outstanding", N(l["outstanding"]));
        Card(html, "Liability", $"{N(l["liabilityValue"])} {currency}");
        Card(html, "Redemption rate", P(l["redemptionRate"]));
        html.Append("</div>");
        html.Append("<div class=\"grid\"><section><h2>Flows</h2>");
        html.Append(HorizontalBars(new[] { "issued", "redeemed", "expired", "reversed", "adjusted", "pending", "reserved" }.Select(k => (k, D(l[k]))).ToArray(), ""));
        html.Append("</section><section><h2>Tier distribution</h2>");
        html.Append(HorizontalBars(l["tiers"] is JsonObject tiers ? tiers.Select(t => (t.Key, D(t.Value))).ToArray() : [], ""));
        html.Append("</section></div>");
        if (l["liabilityByExpiryMonth"] is JsonArray months && months.Count > 0)
        {
            html.Append("<h2>Outstanding points by expiry month</h2><p class=\"note\">What finance carries as liability, and when it lapses if unused.</p>");
            html.Append(BarChart(months.Select(m => m!["month"]!.GetValue<string>()).ToArray(), months.Select(m => D(m!["points"])).ToArray(), Palette[3], ""));
        }

        html.Append("</section>");
    }

    private static void Segments(StringBuilder html, JsonObject section)
    {
        var list = section["segments"]!.AsArray().Select(s => s!.AsObject()).ToArray();
        html.Append("<section><h2>Segments over time</h2><p class=\"note\">Weekly size of the largest segments; membership follows behaviour live and as time passes.</p>");
        var top = list.OrderByDescending(s => D(s["size"])).Take(Palette.Length - 1).ToArray();
        var weeks = top.FirstOrDefault()?["weekly"]?.AsArray().Select(w => w!["date"]!.GetValue<string>()).ToArray() ?? [];
        html.Append(LineChart(weeks, top.Select(s => (s["name"]!.GetValue<string>(), s["weekly"]!.AsArray().Select(w => D(w!["size"])).ToArray())).ToArray()));
        html.Append("<h3>Size, entries and exits</h3>");
        html.Append(HorizontalBars(list.Select(s => (s["name"]!.GetValue<string>(), D(s["size"]))).ToArray(), "customers"));
        html.Append("<table style=\"width:100%;border-collapse:collapse;font-size:13px\"><tr><th align=left>Segment</th><th align=left>Rule</th><th>Size</th><th>Entered</th><th>Exited</th></tr>");
        foreach (var s in list)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(s["name"]?.ToString())}</td><td><code>{E(s["rule"]?.ToString())}</code></td><td align=right>{N(s["size"])}</td><td align=right>{N(s["entered"])}</td><td align=right>{N(s["exited"])}</td></tr>");
        }

        html.Append("</table>");
        if (section["churnDetection"] is JsonObject churn)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>Did the at-risk segment see churn coming?</h3><p class=\"note\">{N(churn["passedThroughAtRisk"])} of {N(churn["trueChurners"])} true churners ({P(churn["share"])}) entered 'At risk' after their last order; among churners with at least two orders, {N(churn["repeatBuyerChurnersCaught"])} of {N(churn["repeatBuyerChurners"])} ({P(churn["repeatBuyerShare"])}).</p>");
            html.Append(HorizontalBars([("True churners", D(churn["trueChurners"])), ("Passed through at risk", D(churn["passedThroughAtRisk"])), ("Repeat-buyer churners", D(churn["repeatBuyerChurners"])), ("… caught", D(churn["repeatBuyerChurnersCaught"]))], ""));
        }

        html.Append("</section>");
    }

    private static void Consent(StringBuilder html, JsonObject c)
    {
        html.Append("<section><h2>Consent and contact pressure</h2>");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Every day a '{E(c["messageClass"]?.ToString())}' e-mail was attempted for {N(c["sampledCustomers"])} sampled customers through the send gate ({N(c["attempts"])} attempts): {N(c["sent"])} sent, {N(c["deferred"])} deferred ({N(c["sentAfterDefer"])} sent at the window's edge), {N(c["skipped"])} skipped. Customers who received mail got {N(c["saturation"]?["messagesPerReachedCustomerPerWeek"])} messages a week on average, at most {N(c["saturation"]?["maxPerCustomerPerWeek"])}.</p>");
        html.Append("<div class=\"grid\"><div><h3>Outcomes</h3>");
        html.Append(HorizontalBars([("Sent", D(c["sent"])), ("Deferred", D(c["deferred"])), ("Skipped", D(c["skipped"])), ("Sent after deferral", D(c["sentAfterDefer"]))], ""));
        html.Append("</div><div><h3>Marketing opt-in rate by channel</h3>");
        var optIn = c["optInByChannel"]!.AsObject();
        html.Append(HorizontalBars(optIn.Select(o => (o.Key, Math.Round(D(o.Value!["rate"]) * 100, 1))).ToArray(), "%"));
        html.Append("</div><div><h3>Skipped, by reason</h3>");
        html.Append(HorizontalBars(c["skippedByReason"]!.AsObject().Select(o => (o.Key.Replace('_', ' '), D(o.Value))).ToArray(), ""));
        html.Append("</div><div><h3>Deferred, by reason</h3>");
        html.Append(HorizontalBars(c["deferredByReason"]!.AsObject().Select(o => (o.Key.Replace('_', ' '), D(o.Value))).ToArray(), ""));
        html.Append("</div></div><h3>Messages per customer per week</h3>");
        var weekly = c["saturation"]!["weekly"]!.AsArray();
        html.Append(LineChart(weekly.Select(w => w!["week"]!.GetValue<string>()).ToArray(), [("Average per reached customer", weekly.Select(w => D(w!["perCustomer"])).ToArray()), ("Most to one customer", weekly.Select(w => D(w!["max"])).ToArray())]));
        html.Append("</section>");
    }

    private static void Journeys(StringBuilder html, JsonObject j)
    {
        html.Append("<section><h2>Journeys</h2>");
        var list = j["journeys"]!.AsArray().Select(x => x!.AsObject()).ToArray();
        html.Append("<div class=\"grid\"><div><h3>Entries per journey</h3>");
        html.Append(HorizontalBars(list.Select(x => (x["id"]!.GetValue<string>(), D(x["entries"]))).ToArray(), ""));
        html.Append("</div><div><h3>Messages sent per journey</h3>");
        html.Append(HorizontalBars(list.Select(x => (x["id"]!.GetValue<string>(), D(x["sent"]))).ToArray(), ""));
        html.Append("</div></div>");
        foreach (var x in list.Where(x => D(x["entries"]) > 0))
        {
            var u = x["uplift"]!;
            html.Append(CultureInfo.InvariantCulture, $"<h3>{E(x["id"]?.ToString())}</h3><p class=\"note\">Conversion treated {N(u["treatedRate"])} ({N(u["treatedConversions"])}/{N(u["treated"])}) vs holdout {N(u["holdoutRate"])} ({N(u["holdoutConversions"])}/{N(u["holdout"])}): uplift {N(u["uplift"])}, 95% CI [{N(u["ciLow"])}, {N(u["ciHigh"])}]{(u["significant"]?.GetValue<bool>() == true ? ", significant" : "")}.</p>");
            html.Append("<div class=\"grid\"><div><h4>Funnel (customers per step)</h4>");
            html.Append(HorizontalBars(x["funnel"]!.AsObject().Select(o => (o.Key, D(o.Value))).ToArray(), ""));
            html.Append("</div><div><h4>Sends by channel, skips by reason</h4>");
            html.Append(HorizontalBars(x["sentByChannel"]!.AsObject().Select(o => ("sent " + o.Key, D(o.Value))).Concat(x["skipped"]!.AsObject().Select(o => ("skipped " + o.Key.Replace('_', ' '), D(o.Value)))).ToArray(), ""));
            html.Append("</div></div>");
        }

        html.Append("</section>");
    }

    private static void Card(StringBuilder html, string label, string value) =>
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"card\"><span>{E(label)}</span><b>{E(value)}</b></div>");

    private static string BarChart(string[] labels, double[] values, string color, string unit)
    {
        const int W = 1100, H = 240, L = 60, B = 30, T = 14;
        var max = Math.Max(1, values.DefaultIfEmpty(0).Max());
        var n = Math.Max(1, values.Length);
        var slot = (W - L - 10) / (double)n;
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\">");
        Axis(svg, max, W, H, L, B, T);
        for (var i = 0; i < values.Length; i++)
        {
            var h = (H - B - T) * values[i] / max;
            var x = L + (i * slot) + (slot * 0.15);
            svg.Append(Inv, $"<rect x=\"{x:0.#}\" y=\"{H - B - h:0.#}\" width=\"{slot * 0.7:0.#}\" height=\"{h:0.#}\" fill=\"{color}\" rx=\"2\"><title>{E(labels[i])}: {values[i]:#,0.##} {E(unit)}</title></rect>");
            if (n <= 24 || i % (n / 12 + 1) == 0)
            {
                svg.Append(Inv, $"<text x=\"{x + (slot * 0.35):0.#}\" y=\"{H - 12}\" text-anchor=\"middle\">{E(labels[i])}</text>");
            }
        }

        return svg.Append("</svg>").ToString();
    }

    private static string LineChart(string[] labels, (string Name, double[] Values)[] series)
    {
        const int W = 1100, H = 220, L = 60, B = 30, T = 14;
        var max = Math.Max(1, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        var n = Math.Max(2, labels.Length);
        var step = (W - L - 20) / (double)(n - 1);
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\">");
        Axis(svg, max, W, H, L, B, T);
        for (var s = 0; s < series.Length; s++)
        {
            var points = string.Join(' ', series[s].Values.Select((v, i) => string.Create(Inv, $"{L + (i * step):0.#},{H - B - ((H - B - T) * v / max):0.#}")));
            svg.Append(Inv, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{Palette[s + 1]}\" stroke-width=\"2.5\"/>");
            svg.Append(Inv, $"<rect x=\"{L + 10 + (s * 140)}\" y=\"{T}\" width=\"12\" height=\"12\" fill=\"{Palette[s + 1]}\"/><text x=\"{L + 28 + (s * 140)}\" y=\"{T + 10}\">{E(series[s].Name)}</text>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static string HorizontalBars((string Label, double Value)[] rows, string unit)
    {
        const int W = 520, Row = 26, L = 150;
        var max = Math.Max(1, rows.Select(r => r.Value).DefaultIfEmpty(0).Max());
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {W} {(rows.Length * Row) + 6}\" width=\"100%\" role=\"img\">");
        for (var i = 0; i < rows.Length; i++)
        {
            var w = (W - L - 90) * rows[i].Value / max;
            var y = (i * Row) + 4;
            svg.Append(Inv, $"<text x=\"{L - 8}\" y=\"{y + 14}\" text-anchor=\"end\">{E(rows[i].Label)}</text>");
            svg.Append(Inv, $"<rect x=\"{L}\" y=\"{y}\" width=\"{w:0.#}\" height=\"{Row - 8}\" fill=\"{Palette[i % Palette.Length]}\" rx=\"3\"/>");
            svg.Append(Inv, $"<text x=\"{L + w + 6:0.#}\" y=\"{y + 14}\">{rows[i].Value:#,0.##} {E(unit)}</text>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static void Axis(StringBuilder svg, double max, int w, int h, int l, int b, int t)
    {
        for (var g = 0; g <= 4; g++)
        {
            var y = h - b - ((h - b - t) * g / 4.0);
            svg.Append(Inv, $"<line x1=\"{l}\" x2=\"{w - 10}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#e3e6ee\"/><text x=\"{l - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{max * g / 4:#,0}</text>");
        }
    }

    private static double D(JsonNode? node) => node is null ? 0 : double.Parse(node.ToJsonString(), Inv);

    private static string N(JsonNode? node) => node is null ? "–" : D(node).ToString("#,0.##", Inv);

    private static string P(JsonNode? node) => node is null ? "–" : (D(node) * 100).ToString("0.0", Inv) + "%";

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);
}

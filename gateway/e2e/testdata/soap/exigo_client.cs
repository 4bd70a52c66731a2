// An Exigo SOAP client in C#, compiled with mcs against the proxy that
// Mono's `wsdl` generates from the served WSDL (class ExigoApi).
//
// SeedGetCustomerBalances and SeedUpdateCustomerExtended are the seeds'
// "C# Soap Client" samples (000_…, 002_…) as written, except the
// credentials; the URL is the one the served WSDL gave the proxy.
//
// Usage:
//   mono client.exe seed LOGIN PASSWORD COMPANY
//     runs the two seed samples; they print what the seeds print.
//   mono client.exe WSDL_URL LOGIN PASSWORD COMPANY
//     runs the steps of exigo_client.php and prints one JSON object: each
//     step's answer, or its fault as {"fault": {"code", "string"}}.
//   mono client.exe field5 WSDL_URL LOGIN PASSWORD COMPANY
//     updates only Field5 of customer 1's extended record 1/1; the proxy
//     sends the other 29 fields as xsi:nil.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Web.Services.Protocols;

public static class ExigoClient
{
    static string yourLoginName, yourPassword, yourCompany;

    public static int Main(string[] args)
    {
        // The seeds print decimals with {0}: make that culture-independent.
        Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length == 4 && args[0] == "seed")
        {
            yourLoginName = args[1]; yourPassword = args[2]; yourCompany = args[3];
            Console.WriteLine("--- GetCustomerBalances");
            SeedGetCustomerBalances();
            Console.WriteLine("--- UpdateCustomerExtended");
            SeedUpdateCustomerExtended();
            return 0;
        }
        bool field5 = args.Length == 5 && args[0] == "field5";
        if (args.Length == 4 || field5)
        {
            int a = field5 ? 1 : 0;
            string url = args[a];
            int q = url.IndexOf('?');
            if (q >= 0) url = url.Substring(0, q);
            Steps s = new Steps(url, args[a + 1], args[a + 2], args[a + 3]);
            Console.WriteLine(field5 ? s.UpdateField5() : s.Run());
            return 0;
        }
        Console.Error.WriteLine("usage: client.exe [seed|field5] … (see exigo_client.cs)");
        return 2;
    }

    // From 000_… "C# Soap Client", as written but for the credentials.
    static void SeedGetCustomerBalances()
    {
        try
        {
            //Create Main API Context Object
            ExigoApi api = new ExigoApi();

            //Create Authentication Header
            ApiAuthentication auth = new ApiAuthentication();
            auth.LoginName = yourLoginName;
            auth.Password = yourPassword;
            auth.Company = yourCompany;
            api.ApiAuthenticationValue = auth;

            //Create Request
            GetCustomerBalancesRequest req = new GetCustomerBalancesRequest();

            req.CustomerID = 1;             //Unique numeric identifier for customer record.
            req.CustomerKey = "1";          //Unique alpha numeric identifier for customer record. Exeption will occur if CustomerID & CustomerKey are provided.

            //Send Request to Server and Get Response
            GetCustomerBalancesResponse res = api.GetCustomerBalances(req);

            //Now examine the results:

            foreach (CustomerBalanceResponse customerBalance in res.CustomerBalances)
            {
                Console.WriteLine("CurrencyCode: {0}", customerBalance.CurrencyCode);
                Console.WriteLine("CurrencyDescription: {0}", customerBalance.CurrencyDescription);
                Console.WriteLine("Balance: {0}", customerBalance.Balance);
            }
        }
        catch (Exception ex)
        {
            Console.WriteLine("Error: " + ex.Message);
        }
    }

    // From 002_… "C# Soap Client", as written but for the credentials.
    static void SeedUpdateCustomerExtended()
    {
        try
        {
            //Create Main API Context Object
            ExigoApi api = new ExigoApi();
            //Create Authentication Header
            ApiAuthentication auth = new ApiAuthentication();
            auth.LoginName = yourLoginName;
            auth.Password = yourPassword;
            auth.Company = yourCompany;
            api.ApiAuthenticationValue = auth;
            //Create Request
            UpdateCustomerExtendedRequest req = new UpdateCustomerExtendedRequest();
            req.CustomerID = 1; //Unique numeric identifier for customer record.
            req.ExtendedGroupID = 1; //The identifer for the ExtendedProperty to update.
            req.CustomerExtendedID = 1; //The identifier for the CustomerExtended entry.
            req.CustomerKey = "1"; //Unique alpha numeric identifier for customer record. Exeption will occur if CustomerID & CustomerKey are provided.
            //Send Request to Server and Get Response
            UpdateCustomerExtendedResponse res = api.UpdateCustomerExtended(req);
            //Now examine the results:
        }
        catch (Exception ex)
        {
            Console.WriteLine("Error: " + ex.Message);
        }
    }
}

// Steps are exigo_client.php's steps through the generated proxy.
class Steps
{
    const string SoapEnvelopeNS = "http://schemas.xmlsoap.org/soap/envelope/";
    readonly string url, login, password, company;

    public Steps(string url, string login, string password, string company)
    {
        this.url = url; this.login = login; this.password = password; this.company = company;
    }

    ExigoApi Api(string pw, bool withHeader)
    {
        ExigoApi api = new ExigoApi();
        api.Url = url;
        if (withHeader)
        {
            ApiAuthentication auth = new ApiAuthentication();
            auth.LoginName = login;
            auth.Password = pw;
            auth.Company = company;
            api.ApiAuthenticationValue = auth;
        }
        return api;
    }

    static GetCustomerBalancesRequest Balances(int id, string key)
    {
        GetCustomerBalancesRequest req = new GetCustomerBalancesRequest();
        req.CustomerID = id;
        req.CustomerKey = key;
        return req;
    }

    static UpdateCustomerExtendedRequest Extended(int id, string key)
    {
        UpdateCustomerExtendedRequest req = new UpdateCustomerExtendedRequest();
        req.CustomerID = id;
        req.CustomerKey = key;
        req.ExtendedGroupID = 1;
        req.CustomerExtendedID = 1;
        return req;
    }

    public string Run()
    {
        ExigoApi api = Api(password, true);
        ExigoApi bad = Api("wrong-" + password, true);
        ExigoApi none = Api(null, false);
        JsonObject out_ = new JsonObject();
        out_.Add("balances by id", Step(() => Json(api.GetCustomerBalances(Balances(1, null)))));
        // Generated clients always send the value-typed CustomerID; 0 is "not sent".
        out_.Add("balances by key", Step(() => Json(api.GetCustomerBalances(Balances(0, "1")))));
        out_.Add("update fields 1 and 2", Step(() =>
        {
            UpdateCustomerExtendedRequest req = Extended(1, null);
            req.Field1 = "one";
            req.Field2 = "";
            return Json(api.UpdateCustomerExtended(req));
        }));
        // The proxy sends every unset field as xsi:nil: they stay as they are.
        out_.Add("update field 3 by key", Step(() =>
        {
            UpdateCustomerExtendedRequest req = Extended(0, "1");
            req.Field3 = "three";
            return Json(api.UpdateCustomerExtended(req));
        }));
        out_.Add("unknown customer", Step(() => Json(api.GetCustomerBalances(Balances(99, null)))));
        out_.Add("both identifiers", Step(() => Json(api.GetCustomerBalances(Balances(1, "1")))));
        out_.Add("neither identifier", Step(() => Json(api.UpdateCustomerExtended(Extended(0, null)))));
        out_.Add("bad credential", Step(() => Json(bad.GetCustomerBalances(Balances(1, null)))));
        out_.Add("missing header", Step(() => Json(none.GetCustomerBalances(Balances(1, null)))));
        return out_.ToString();
    }

    public string UpdateField5()
    {
        UpdateCustomerExtendedRequest req = Extended(1, null);
        req.Field5 = "five";
        JsonObject out_ = new JsonObject();
        out_.Add("update field 5", Step(() => Json(Api(password, true).UpdateCustomerExtended(req))));
        return out_.ToString();
    }

    // Step runs one call; a SoapException becomes {"fault": …}, anything
    // else ends the program, so the test sees it.
    static JsonObject Step(Func<JsonObject> f)
    {
        JsonObject o = new JsonObject();
        try
        {
            o.Add("ok", f());
        }
        catch (SoapException ex)
        {
            string code = ex.Code.Namespace == SoapEnvelopeNS
                ? "soap:" + ex.Code.Name
                : "{" + ex.Code.Namespace + "}" + ex.Code.Name;
            JsonObject fault = new JsonObject();
            fault.Add("code", code);
            fault.Add("string", ex.Message);
            o.Add("fault", fault);
        }
        return o;
    }

    static JsonObject Json(ApiResult r)
    {
        if (r == null) return null;
        JsonObject o = new JsonObject();
        o.Add("Status", r.Status.ToString());
        o.Add("Errors", r.Errors == null ? null : new List<object>(r.Errors));
        o.Add("TransactionKey", r.TransactionKey);
        return o;
    }

    static JsonObject Json(GetCustomerBalancesResponse res)
    {
        JsonObject o = new JsonObject();
        o.Add("Result", Json(res.Result));
        if (res.CustomerBalances == null)
        {
            o.Add("CustomerBalances", null);
            return o;
        }
        List<object> rows = new List<object>();
        foreach (CustomerBalanceResponse b in res.CustomerBalances)
        {
            JsonObject row = new JsonObject();
            row.Add("CurrencyCode", b.CurrencyCode);
            row.Add("CurrencyDescription", b.CurrencyDescription);
            // A string, so the decimal's exact digits reach the test.
            row.Add("Balance", b.Balance.ToString(CultureInfo.InvariantCulture));
            rows.Add(row);
        }
        JsonObject balances = new JsonObject();
        balances.Add("CustomerBalanceResponse", rows);
        o.Add("CustomerBalances", balances);
        return o;
    }

    static JsonObject Json(UpdateCustomerExtendedResponse res)
    {
        JsonObject o = new JsonObject();
        o.Add("Result", Json(res.Result));
        return o;
    }
}

// JsonObject writes an ordered JSON object of strings, lists and objects
// (Mono's class libraries carry no JSON writer this program can rely on).
class JsonObject
{
    readonly List<KeyValuePair<string, object>> members = new List<KeyValuePair<string, object>>();

    public void Add(string key, object value)
    {
        members.Add(new KeyValuePair<string, object>(key, value));
    }

    public override string ToString()
    {
        StringBuilder b = new StringBuilder();
        Write(b, this);
        return b.ToString();
    }

    static void Write(StringBuilder b, object v)
    {
        if (v == null) { b.Append("null"); return; }
        JsonObject o = v as JsonObject;
        if (o != null)
        {
            b.Append('{');
            for (int i = 0; i < o.members.Count; i++)
            {
                if (i > 0) b.Append(',');
                Write(b, o.members[i].Key);
                b.Append(':');
                Write(b, o.members[i].Value);
            }
            b.Append('}');
            return;
        }
        List<object> list = v as List<object>;
        if (list != null)
        {
            b.Append('[');
            for (int i = 0; i < list.Count; i++)
            {
                if (i > 0) b.Append(',');
                Write(b, list[i]);
            }
            b.Append(']');
            return;
        }
        b.Append('"');
        foreach (char c in v.ToString())
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        b.Append('"');
    }
}

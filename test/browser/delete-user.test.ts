import { describe, expect, it } from "vitest";
import { signInAs, stamp, textOf, urlMatches, useBrowser, visible } from "./browser";

const browser = useBrowser();

describe("Deleting a user in a real browser", () => {
  it("a Global Administrator disables a user, then deletes them by typing their email", async () => {
    const root = await browser.newPage();
    root.on("dialog", (dialog) => void dialog.accept());
    await signInAs(root, "root@example.test");

    const email = `leaver-${stamp()}@example.test`;
    await root.goto("/admin/users/new");
    await root.getByLabel("Email").fill(email);
    await root.getByLabel("Name", { exact: true }).fill("Leaving Soon");
    await root.getByLabel("Initial password").fill(`initial words ${stamp()}`);
    await root.getByRole("button", { name: "Create user" }).click();
    await urlMatches(root, /\/admin\/users\/\d+\?notice=created$/);
    const userPage = new URL(root.url()).pathname;

    // While the user is enabled the section only says to disable them first.
    const danger = root.getByRole("region", { name: "Delete user" });
    expect(await textOf(danger)).toContain("Only a disabled user can be deleted.");
    expect(await danger.getByRole("button").count()).toBe(0);

    // Disabling through htmx brings the confirmation form in place.
    await root.getByRole("button", { name: `Disable ${email}` }).click();
    const confirm = danger.getByLabel("Email of the user to delete");
    await visible(confirm);
    expect(new URL(root.url()).pathname).toBe(userPage);

    await confirm.fill("someone-else@example.test");
    await danger.getByRole("button", { name: "Delete user" }).click();
    await visible(root.locator("#delete-confirmEmail-error"));
    expect(await textOf(root.locator("#delete-confirmEmail-error"))).toBe(
      `This is not the user's email. Type ${email} exactly.`,
    );

    await danger.getByLabel("Email of the user to delete").fill(email);
    await danger.getByRole("button", { name: "Delete user" }).click();
    await urlMatches(root, /\/admin\/users\?deleted=\d+$/);
    expect(await textOf(root.getByRole("status"))).toBe(`User ${email} deleted.`);
    const list = root.getByRole("table", { name: "Users" });
    await visible(list);
    expect(await list.getByRole("link", { name: email }).count()).toBe(0);

    const gone = await root.goto(userPage);
    expect(gone?.status()).toBe(404);
  });
});

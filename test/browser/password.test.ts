import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { signInAs, stamp, textOf, urlMatches, useBrowser, visible } from "./browser";

const browser = useBrowser();

/** Signs in and expects the generic refusal. */
async function expectSignInRefused(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await visible(page.getByRole("alert"));
  expect(await textOf(page.getByRole("alert"))).toBe("The email or password is incorrect.");
}

describe("Passwords in a real browser", () => {
  it("a user changes their own password from the header, then a Global Administrator sets a new one", async () => {
    // An account of this test's own (no Site), so the accounts other browser tests sign in with stay as they are.
    const root = await browser.newPage();
    await signInAs(root, "root@example.test");
    const email = `password-${stamp()}@example.test`;
    const initial = `initial words ${stamp()}`;
    await root.goto("/admin/users/new");
    await root.getByLabel("Email").fill(email);
    await root.getByLabel("Name", { exact: true }).fill("Password Changer");
    await root.getByLabel("Initial password").fill(initial);
    await root.getByRole("button", { name: "Create user" }).click();
    await urlMatches(root, /\/admin\/users\/\d+\?notice=created$/);
    const userPage = new URL(root.url()).pathname;

    // The user changes it themselves, through the link on their email in the header.
    const user = await browser.newPage();
    await signInAs(user, email, initial);
    await user.getByRole("link", { name: email }).click();
    await urlMatches(user, /\/account\/password$/);
    await visible(user.getByRole("heading", { name: "Change your password" }));
    const chosen = `my own choice ${stamp()}`;
    await user.getByLabel("Current password").fill("not the password");
    await user.getByLabel("New password", { exact: true }).fill(chosen);
    await user.getByLabel("Confirm new password").fill(chosen);
    await user.getByRole("button", { name: "Change password" }).click();
    await visible(user.locator("#account-currentPassword-error"));
    expect(await textOf(user.locator("#account-currentPassword-error"))).toBe("The current password is incorrect.");

    await user.getByLabel("Current password").fill(initial);
    await user.getByLabel("New password", { exact: true }).fill(chosen);
    await user.getByLabel("Confirm new password").fill(chosen);
    await user.getByRole("button", { name: "Change password" }).click();
    await urlMatches(user, /\/account\/password\?notice=changed$/);
    expect(await textOf(user.getByRole("status"))).toBe(
      "Password changed. Every other session of yours has ended; you are still signed in here.",
    );
    // Still signed in on the rotated session.
    await user.goto("/");
    await visible(user.getByRole("heading", { name: "No Sites yet" }));

    await user.getByRole("button", { name: "Sign out" }).click();
    await urlMatches(user, /\/sign-in$/);
    await expectSignInRefused(user, email, initial);
    await signInAs(user, email, chosen);
    await visible(user.getByRole("link", { name: email }));

    // A Global Administrator sets a new one on the user's page: the user's session ends at once.
    const handedOver = `handed over ${stamp()}`;
    await root.goto(userPage);
    const section = root.locator("#password");
    await section.getByLabel("New password", { exact: true }).fill(handedOver);
    await section.getByLabel("Confirm new password").fill(handedOver);
    await section.getByRole("button", { name: "Set password" }).click();
    await urlMatches(root, /notice=password-set$/);
    expect(await textOf(root.getByRole("status"))).toContain("Password set. Every session of theirs has ended");
    const trail = root.getByRole("region", { name: "Changes to this user" });
    const rows = await trail.getByRole("row").allTextContents();
    expect(rows.some((r) => r.includes("root@example.test") && r.includes("Password reset"))).toBe(true);
    expect(rows.some((r) => r.includes(email) && r.includes("Password changed"))).toBe(true);
    expect(await root.content()).not.toContain(handedOver);

    await user.reload();
    await urlMatches(user, /\/sign-in\?next=/);
    await expectSignInRefused(user, email, chosen);
    await signInAs(user, email, handedOver);
    await visible(user.getByRole("link", { name: email }));
  });
});

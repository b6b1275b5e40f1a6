import { describe, expect, it } from "vitest";
import { settling } from "../../src/lib/settled";

describe("settling", () => {
  it("has no value until the promise is fulfilled, then the value itself", async () => {
    let resolve: (value: string) => void = () => {};
    const entry = settling(
      new Promise<string>((r) => {
        resolve = r;
      }),
      () => {},
    );
    expect(entry.value).toBeUndefined();
    resolve("key");
    expect(await entry.promise).toBe("key");
    expect(entry.value).toBe("key");
  });

  it("runs onRejected when the promise rejects, and keeps no value", async () => {
    let rejected = false;
    const entry = settling(Promise.reject(new Error("bad key")), () => {
      rejected = true;
    });
    await expect(entry.promise).rejects.toThrow("bad key");
    expect(rejected).toBe(true);
    expect(entry.value).toBeUndefined();
  });
});
